package mlip.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Metric definitions against hand-computed scikit-learn values. */
class MetricsTest {
    @Test
    void accuracyAndMacroF1AsScikitLearn() {
        int[] truth = {0, 0, 1, 1, 2, 2};
        int[] pred = {0, 1, 1, 1, 0, 2};
        assertEquals(4.0 / 6, Metrics.accuracy(pred, truth), 1e-12);
        // sklearn.metrics.f1_score(truth, pred, average="macro"): class 0: 2/(2+1+1)=0.5, class 1: 4/5=0.8, class 2: 2/3
        assertEquals((0.5 + 0.8 + 2.0 / 3) / 3, Metrics.f1Macro(pred, truth, 3), 1e-12);
        // a class never predicted nor present scores 0 (zero_division=0)
        assertEquals((0.5 + 0.8 + 2.0 / 3 + 0) / 4, Metrics.f1Macro(pred, truth, 4), 1e-12);
    }

    @Test
    void perClassNormalisationRemovesAClassWideOffset() {
        // class 1's prompt is closer to every image (+0.5): raw argmax gives class 1 everywhere
        double[][] scores = {{0.30, 0.70}, {0.20, 0.75}, {0.10, 0.85}, {0.00, 0.90}};
        assertArrayEquals(new int[]{1, 1, 1, 1}, ZeroShot.classify(scores, false));
        // standardised per column (numpy: (x - x.mean(0)) / x.std(0)): col 0 -> [1.34, 0.45, -0.45, -1.34],
        // col 1 -> [-1.26, -0.63, 0.63, 1.26]: rows 0 and 1 flip to class 0
        assertArrayEquals(new int[]{0, 0, 1, 1}, ZeroShot.classify(scores, true));
        // the input is not modified, a constant column counts as 0
        assertEquals(0.30, scores[0][0]);
        assertArrayEquals(new int[]{1, 0}, ZeroShot.classify(new double[][]{{0.5, 1.0}, {0.5, -1.0}}, true));
    }

    @Test
    void aPatchIsInsideWhenItTouchesTheMask() {
        int size = 8, patch = 4;
        float[] mask = new float[size * size];
        mask[1 * size + 1] = 1;                                     // one pixel of patch 0
        mask[5 * size + 6] = 0.4f;                                  // patch 3: covered less than half (the resized mask's value)
        assertArrayEquals(new boolean[]{true, false, false, false}, PointingGame.inside(mask, size, patch));
    }
}
