package mlip.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** The seeded train/valid/test split by group (patient or image) that the RSNA and SIIM loaders use. */
final class Splits {

    private Splits() {
    }

    /**
     * Assigns every distinct key to "train", "valid" or "test" in proportions 70/15/15 (GLoRIA's and MGCA's
     * proportions for RSNA and SIIM; their scikit-learn shuffle is not reproduced): the distinct keys in first-seen order are shuffled with {@code new SplittableRandom(seed)},
     * then the first round(0.70 n) are train, the next round(0.15 n) valid, the rest test. The same keys and seed
     * always give the same split, and a key is in exactly one part.
     */
    static Map<String, String> trainValidTest(List<String> keys, long seed) {
        List<String> distinct = new ArrayList<>(new LinkedHashSet<>(keys));
        Collections.shuffle(distinct, new SplittableRandom(seed));
        int n = distinct.size();
        int nTrain = (int) Math.round(0.70 * n);
        int nValid = Math.min(n - nTrain, (int) Math.round(0.15 * n));
        Map<String, String> split = new HashMap<>();
        for (int i = 0; i < n; i++) {
            split.put(distinct.get(i), i < nTrain ? "train" : i < nTrain + nValid ? "valid" : "test");
        }
        return split;
    }

    /** "84 train, 18 valid, 18 test" for the given split names, in that order. */
    static String counts(List<String> splitOfEachItem, String... names) {
        List<String> parts = new ArrayList<>();
        for (String s : names) {
            parts.add(splitOfEachItem.stream().filter(s::equals).count() + " " + s);
        }
        return String.join(", ", parts);
    }
}
