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
        assertEquals(4.0 / 6, ZeroShot.accuracy(pred, truth), 1e-12);
        // sklearn.metrics.f1_score(truth, pred, average="macro"): class 0: 2/(2+1+1)=0.5, class 1: 4/5=0.8, class 2: 2/3
        assertEquals((0.5 + 0.8 + 2.0 / 3) / 3, ZeroShot.macroF1(pred, truth, 3), 1e-12);
        // a class never predicted nor present scores 0 (zero_division=0)
        assertEquals((0.5 + 0.8 + 2.0 / 3 + 0) / 4, ZeroShot.macroF1(pred, truth, 4), 1e-12);
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
    void aPatchIsInsideWhenHalfItsPixelsAre() {
        int size = 8, patch = 4;
        float[] mask = new float[size * size];
        for (int y = 0; y < 2; y++) for (int x = 0; x < 4; x++) mask[y * size + x] = 1;       // top half of patch 0
        for (int y = 4; y < 5; y++) for (int x = 4; x < 8; x++) mask[y * size + x] = 1;       // a quarter of patch 3
        assertArrayEquals(new boolean[]{true, false, false, false}, PointingGame.inside(mask, size, patch));
    }
}
