/**
 * Pictures of models, runs and evaluations, written as PNG files: pure data in (float arrays, counts,
 * {@code metrics.jsonl}), {@link java.awt.image.BufferedImage} or a PNG out.
 *
 * <ul>
 *   <li>{@link mlip.viz.Heatmap} — a gray chest X-ray with a patch-score colour overlay and a caption (a
 *       report sentence); {@code row} puts panels side by side; {@code write} writes a PNG atomically.</li>
 *   <li>{@link mlip.viz.PatchMaskPicture} — the semantic-integrity scores per patch beside the image with
 *       the masked patches greyed out and the kept ones outlined (DESIGN.md 7.3).</li>
 *   <li>{@link mlip.viz.Curves} — loss terms and learning rate against step from a run's {@code metrics.jsonl},
 *       and one key across several runs (XChart line charts).</li>
 *   <li>{@link mlip.viz.ConfusionPicture} — a confusion matrix as a heatmap with the counts in the cells.</li>
 *   <li>{@link mlip.viz.Colormap} — the colour ramps (jet, inferno) the pictures use.</li>
 * </ul>
 *
 * <p>Everything is drawn off screen with Java2D ({@code java.awt.headless=true}; on Linux without a
 * {@code DISPLAY} the JDK is headless by default, and the classes here set the property when it is unset).
 * Text needs a font, i.e. fontconfig and one font package (Debian: {@code fonts-dejavu-core}).
 * Bad arguments throw {@link java.lang.IllegalArgumentException} saying which argument and why; I/O
 * failures throw {@link java.io.UncheckedIOException} naming the file.
 */
package mlip.viz;
