package mlip.data;

import java.nio.file.Path;
import java.util.List;

/**
 * What the real-data loaders ({@link Chexpert}, {@link RsnaPneumonia}, {@link SiimPneumothorax}, {@link Covidx})
 * share: the folder they were loaded from, their items in index-file order, each item's split, and the count of
 * skipped images (missing at load, corrupt when read).
 *
 * <pre>{@code
 * RsnaPneumonia rsna = RsnaPneumonia.load(root);
 * List<RsnaPneumonia.Item> test = rsna.split("test");
 * System.err.println(rsna.skipped() + " skipped: " + rsna.skippedReasons());
 * }</pre>
 */
public abstract class ImageSet<I extends ImageSet.Item> {
    /** An item knows its split ("train", "valid", "test", ...). */
    public interface Item {
        String split();
    }

    final Path root;
    final List<I> items;
    final Skips skips;

    ImageSet(Path root, List<I> items, Skips skips) {
        this.root = root;
        this.items = items;
        this.skips = skips;
    }

    /** The folder this was loaded from. */
    public Path root() {
        return root;
    }

    /** All loaded items, in index-file order. */
    public List<I> items() {
        return items;
    }

    /** The items of one split. */
    public List<I> split(String split) {
        return items.stream().filter(it -> it.split().equals(split)).toList();
    }

    /** Images skipped so far: missing at load, corrupt when read through {@code readAll}. */
    public int skipped() {
        return skips.count();
    }

    /** Why images were skipped (the first 20). */
    public List<String> skippedReasons() {
        return skips.reasons();
    }

    /** The loaders' summary line: {@code name: N images (a train, b valid[; extra]), k skipped (...)}. */
    String summaryLine(String name, String extra, String... splits) {
        return name + ": " + items.size() + " images (" + Splits.counts(items.stream().map(Item::split).toList(), splits)
                + (extra.isEmpty() ? "" : "; " + extra) + "), " + skips.summary();
    }

    /** A PNG/JPEG through {@link Preprocess}; a file that does not decode is a {@link CorruptImageException}. */
    static float[] readEncoded(Path image, int size) {
        try {
            return Preprocess.read(image, size);
        } catch (java.io.IOException e) {
            throw new CorruptImageException(image, e);
        }
    }
}
