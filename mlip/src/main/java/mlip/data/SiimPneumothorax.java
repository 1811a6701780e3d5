package mlip.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Loader for the SIIM-ACR Pneumothorax Segmentation data, in its published layout:
 * <pre>
 * ROOT/train-rle.csv                          ImageId, EncodedPixels     (the header really has that space)
 * ROOT/dicom-images-train/&lt;study&gt;/&lt;series&gt;/&lt;ImageId&gt;.dcm
 * </pre>
 * {@code EncodedPixels} is {@code -1} for no pneumothorax, else a run-length mask; an image with several
 * pneumothoraces has several rows, whose masks are unioned. The DICOMs sit in nested folders: they are indexed by
 * file name with one directory walk at load time. Images are read by {@link Dicom}.
 *
 * <p>RLE, the SIIM convention (the competition's {@code mask_functions.rle2mask}): the numbers are pairs
 * (start, length); each start is relative to the end of the previous run (the first to pixel 0); pixels are
 * numbered column-major (Fortran order) over the width x height image, i.e. pixel {@code p} is column
 * {@code p / height}, row {@code p % height}. The real images are 1024 x 1024; the DICOM's own size is used.
 *
 * <p>Selection and split: {@code balanced} is the usual "all positives plus as many negatives" selection, the
 * negatives drawn with the seed (all of them when there are fewer); the kept images are then split 70/15/15 by
 * image with the same seed (SIIM has one image per patient in practice; ImageId is what the index has).
 *
 * <p>Errors follow {@link MimicCxrJpg}: a malformed row (or an RLE that runs outside the image, found when the mask is
 * read) is a {@link DataFileException} naming the file and line; a missing CSV or image folder an
 * {@link UncheckedIOException}; a missing DICOM is skipped and counted at load, a corrupt one in {@link #readAll}.
 *
 * <pre>{@code
 * SiimPneumothorax siim = SiimPneumothorax.load(Path.of("data/siim-acr-pneumothorax"), true, 0L);
 * System.err.println(siim.summary());   // siim: 4758 images (3331 train, 714 valid, 713 test; 2379 pneumothorax), 0 skipped
 * List<SiimPneumothorax.Sample> test = siim.readAll(siim.split("test"), 224);
 * }</pre>
 */
public final class SiimPneumothorax extends ImageSet<SiimPneumothorax.Item> {

    public static final String RLE_CSV = "train-rle.csv";
    public static final String IMAGES_DIR = "dicom-images-train";

    /** One row's run-length mask: (start, length) pairs, and the CSV line it came from (for error messages). */
    public record Rle(int line, int[] pairs) {
    }

    /**
     * One image.
     *
     * @param id    the ImageId (the DICOM's file name without ".dcm")
     * @param label 1 pneumothorax, 0 not
     * @param masks one RLE per positive row (empty when label is 0)
     * @param split "train", "valid" or "test"
     */
    public record Item(String id, Path image, int label, List<Rle> masks, String split) implements ImageSet.Item {
    }

    /** A decoded image and its mask, both (size*size): image in [0,1], mask 0/1. */
    public record Sample(Item item, float[] image, float[] mask) {
    }

    private final Path csv;

    private SiimPneumothorax(Path root, Path csv, List<Item> items, Skips skips) {
        super(root, items, skips);
        this.csv = csv;
    }

    /** {@link #load(Path, boolean, long)} with the balanced selection and seed 0. */
    public static SiimPneumothorax load(Path root) {
        return load(root, true, 0L);
    }

    /**
     * Reads the RLE CSV, indexes the DICOMs (not their pixels), selects and splits.
     *
     * @param balanced all positives plus as many seeded-drawn negatives; false keeps every image
     * @param seed     for the negative draw and the 70/15/15 split
     * @throws DataFileException    for a malformed row, naming file and line
     * @throws UncheckedIOException when the CSV or the image folder is missing
     */
    public static SiimPneumothorax load(Path root, boolean balanced, long seed) {
        Path csv = root.resolve(RLE_CSV);
        if (!Files.isRegularFile(csv)) {
            throw new UncheckedIOException(new IOException(root + ": missing " + RLE_CSV + "; is this the SIIM-ACR Pneumothorax folder?"));
        }
        Csv.Table t = Csv.read(csv); // header cells are trimmed, so "ImageId, EncodedPixels" works
        int cId = t.column("ImageId");
        int cRle = t.column("EncodedPixels");
        Map<String, List<Rle>> masks = new LinkedHashMap<>(); // first-seen order; empty list = negative
        for (Csv.Row r : t.rows()) {
            String id = r.get(cId).trim();
            if (id.isEmpty()) {
                throw new DataFileException(csv, r.line(), "empty ImageId");
            }
            List<Rle> list = masks.computeIfAbsent(id, k -> new ArrayList<>());
            String enc = r.get(cRle).trim();
            if (!enc.equals("-1")) {
                list.add(new Rle(r.line(), parseRle(enc, csv, r.line())));
            }
        }
        Map<String, Path> dicoms = indexDicoms(root.resolve(IMAGES_DIR));
        Skips skips = new Skips();
        List<Item> found = new ArrayList<>();
        for (Map.Entry<String, List<Rle>> e : masks.entrySet()) {
            Path image = dicoms.get(e.getKey());
            if (image == null) {
                skips.skip("missing image", e.getKey() + ".dcm under " + IMAGES_DIR);
                continue;
            }
            found.add(new Item(e.getKey(), image, e.getValue().isEmpty() ? 0 : 1, List.copyOf(e.getValue()), ""));
        }
        SplittableRandom rng = new SplittableRandom(seed);
        List<Item> kept = found;
        if (balanced) {
            List<Item> pos = found.stream().filter(it -> it.label() == 1).toList();
            List<Item> neg = new ArrayList<>(found.stream().filter(it -> it.label() == 0).toList());
            Collections.shuffle(neg, rng);
            kept = new ArrayList<>(pos);
            kept.addAll(neg.subList(0, Math.min(pos.size(), neg.size())));
        }
        Map<String, String> split = Splits.trainValidTest(kept.stream().map(Item::id).toList(), rng.nextLong());
        List<Item> items = kept.stream().map(it -> new Item(it.id(), it.image(), it.label(), it.masks(), split.get(it.id()))).toList();
        return new SiimPneumothorax(root, csv, items, skips);
    }

    /** One walk over the image folder: file name without ".dcm" to path (the first in sorted order on a clash). */
    private static Map<String, Path> indexDicoms(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new UncheckedIOException(new IOException(dir.getParent() + ": missing folder " + IMAGES_DIR));
        }
        Map<String, Path> index = new HashMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.filter(p -> p.getFileName().toString().endsWith(".dcm")).sorted().forEach(p -> {
                String name = p.getFileName().toString();
                index.putIfAbsent(name.substring(0, name.length() - 4), p);
            });
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot list the DICOMs: " + e.getMessage(), e);
        }
        return index;
    }

    /**
     * Parses an EncodedPixels cell into (start, length) pairs.
     *
     * @throws DataFileException for non-integers, negative numbers, zero lengths or an odd count
     */
    static int[] parseRle(String cell, Path file, int line) {
        String[] tok = cell.trim().split("\\s+");
        if (tok.length % 2 != 0) {
            throw new DataFileException(file, line, "column 'EncodedPixels': expected (start, length) pairs or -1, got " + tok.length + " numbers");
        }
        int[] v = new int[tok.length];
        for (int i = 0; i < tok.length; i++) {
            try {
                v[i] = Integer.parseInt(tok[i]);
            } catch (NumberFormatException e) {
                v[i] = -1;
            }
            if (v[i] < 0 || (i % 2 == 1 && v[i] == 0)) {
                throw new DataFileException(file, line, "column 'EncodedPixels': bad run value '" + tok[i] + "' (number " + (i + 1) + ")");
            }
        }
        return v;
    }

    /**
     * Decodes SIIM RLE pairs into a (height*width) row-major 0/1 mask: relative starts, column-major pixel order.
     *
     * @throws IllegalArgumentException when a run ends past width*height
     */
    public static float[] decodeRle(int[] pairs, int width, int height) {
        float[] m = new float[width * height];
        long pos = 0;
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            pos += pairs[i]; // relative to the end of the previous run
            long end = pos + pairs[i + 1];
            if (end > (long) width * height) {
                throw new IllegalArgumentException("run " + (i / 2 + 1) + " ends at pixel " + end + ", past the " + width + "x" + height + " image");
            }
            for (long p = pos; p < end; p++) {
                int x = (int) (p / height); // column-major
                int y = (int) (p % height);
                m[y * width + x] = 1f;
            }
            pos = end;
        }
        return m;
    }

    /** e.g. {@code siim: 40 images (28 train, 6 valid, 6 test; 20 pneumothorax), 1 skipped (missing image)}. */
    public String summary() {
        long pos = items.stream().filter(it -> it.label() == 1).count();
        return summaryLine("siim", pos + " pneumothorax", "train", "valid", "test");
    }

    /** The image after {@link Preprocess} at (size x size). @throws CorruptImageException when it cannot be decoded */
    public float[] readImage(Item item, int size) {
        return Preprocess.image(decode(item), size);
    }

    /**
     * The union of the item's RLE masks at the DICOM's size, through the same resize and crop as the image (0/1).
     * This decodes the DICOM for its size; {@link #readAll} gets image and mask from one decode.
     *
     * @throws CorruptImageException as readImage
     * @throws DataFileException     naming train-rle.csv and the line when a run lies outside the image
     */
    public float[] readMask(Item item, int size) {
        Images.Gray g = decode(item);
        return Preprocess.mask(mask(item, g.width(), g.height()), g.width(), g.height(), size);
    }

    /** Image and mask from one decode, in parallel; corrupt images are skipped and counted. */
    public List<Sample> readAll(List<Item> which, int size) {
        return skips.readAll(which, it -> {
            Images.Gray g = decode(it);
            return new Sample(it, Preprocess.image(g, size), Preprocess.mask(mask(it, g.width(), g.height()), g.width(), g.height(), size));
        });
    }

    private float[] mask(Item item, int width, int height) {
        float[] m = new float[width * height];
        for (Rle r : item.masks()) {
            float[] one;
            try {
                one = decodeRle(r.pairs(), width, height);
            } catch (IllegalArgumentException e) {
                throw new DataFileException(csv, r.line(), "column 'EncodedPixels' of " + item.id() + ": " + e.getMessage());
            }
            for (int i = 0; i < m.length; i++) {
                m[i] = Math.max(m[i], one[i]);
            }
        }
        return m;
    }

    private static Images.Gray decode(Item item) {
        try {
            return Dicom.read(item.image());
        } catch (IOException e) {
            throw new CorruptImageException(item.image(), e);
        }
    }
}
