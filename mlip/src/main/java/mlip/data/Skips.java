package mlip.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The skipped-sample log the loaders share: a thread-safe count per kind ("missing image", "corrupt image"),
 * the first {@value #MAX_REASONS} full reasons, and the parallel read-everything-skip-the-bad helper.
 */
final class Skips {

    static final int MAX_REASONS = 20;

    private final AtomicInteger total = new AtomicInteger();
    private final Map<String, Integer> byKind = new TreeMap<>();
    private final List<String> reasons = new ArrayList<>();

    /** Counts one skipped sample of {@code kind}; {@code detail} (usually the file) goes into the reasons. */
    synchronized void skip(String kind, String detail) {
        total.incrementAndGet();
        byKind.merge(kind, 1, Integer::sum);
        if (reasons.size() < MAX_REASONS) {
            reasons.add(kind + " " + detail);
        }
    }

    int count() {
        return total.get();
    }

    synchronized List<String> reasons() {
        return List.copyOf(reasons);
    }

    /** "3 skipped (missing image)" or "3 skipped (2 missing image, 1 corrupt image)" or "0 skipped". */
    synchronized String summary() {
        if (byKind.isEmpty()) {
            return "0 skipped";
        }
        if (byKind.size() == 1) {
            return total.get() + " skipped (" + byKind.keySet().iterator().next() + ")";
        }
        List<String> parts = new ArrayList<>();
        byKind.forEach((k, n) -> parts.add(n + " " + k));
        return total.get() + " skipped (" + String.join(", ", parts) + ")";
    }

    /**
     * Maps {@code read} over {@code items} in parallel; an item whose read throws {@link CorruptImageException}
     * is skipped and counted as "corrupt image". Result order = input order, without the skipped ones.
     */
    <I, S> List<S> readAll(List<I> items, Function<I, S> read) {
        return items.parallelStream().map(it -> {
            try {
                return read.apply(it);
            } catch (CorruptImageException e) {
                skip("corrupt image", e.getMessage());
                return null;
            }
        }).filter(s -> s != null).toList();
    }
}
