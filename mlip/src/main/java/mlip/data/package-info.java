/**
 * Chest X-ray data sets on disk, in their published layouts.
 *
 * <ul>
 *   <li>{@link mlip.data.MimicCxrJpg} — MIMIC-CXR-JPG (split/chexpert/metadata CSVs, JPEGs, reports), also the
 *       layout SynthCXR writes; {@link mlip.data.Study} is one image of it.</li>
 *   <li>{@link mlip.data.Chexpert5x200} — the 5-class, 200-per-class zero-shot evaluation split.</li>
 *   <li>{@link mlip.data.SynthAnnotations} — SynthCXR's sentence→finding annotations and masks (pointing game,
 *       segmentation).</li>
 *   <li>{@link mlip.data.ChexpertLabels}, {@link mlip.data.Csv}, {@link mlip.data.Images} — label names and
 *       values, CSV reading with line numbers, gray image decoding and resizing.</li>
 * </ul>
 *
 * <p>Errors are unchecked: {@link mlip.data.DataFileException} (bad content, with file and line) and
 * {@link java.io.UncheckedIOException} (I/O). A missing or corrupt image or report in a large set is skipped
 * and counted, never fatal. The synthetic generator lives in {@link mlip.data.synth}.
 */
package mlip.data;
