package mlip.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import mlip.autograd.Variable;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.Test;

class LinearProbeTest {
    static final int D = 16;

    /** ROC AUC by the Mann–Whitney statistic with mid-ranks for ties (scikit-learn's roc_auc_score). */
    static double auc(double[] score, boolean[] positive) {
        int n = score.length;
        Integer[] o = new Integer[n];
        for (int i = 0; i < n; i++) o[i] = i;
        Arrays.sort(o, (a, b) -> Double.compare(score[a], score[b]));
        double[] rank = new double[n];
        for (int i = 0; i < n; ) {
            int j = i;
            while (j + 1 < n && score[o[j + 1]] == score[o[i]]) j++;
            for (int k = i; k <= j; k++) rank[o[k]] = (i + j) / 2.0 + 1;
            i = j + 1;
        }
        double sumPos = 0;
        long pos = 0;
        for (int i = 0; i < n; i++) {
            if (positive[i]) {
                sumPos += rank[i];
                pos++;
            }
        }
        long neg = n - pos;
        return (sumPos - pos * (pos + 1) / 2.0) / (pos * (double) neg);
    }

    static double[] column(double[][] s, int c) {
        double[] r = new double[s.length];
        for (int i = 0; i < s.length; i++) r[i] = s[i][c];
        return r;
    }

    static boolean[] is(int[] y, int c) {
        boolean[] r = new boolean[y.length];
        for (int i = 0; i < y.length; i++) r[i] = y[i] == c;
        return r;
    }

    /** Two blobs N(±mu, I) in 16-D with |mu_j| = 0.5 (Bayes AUC about 0.998), shifted and scaled per dim. */
    record Blobs(float[][] x, int[] y) {
        static Blobs draw(Random r, int n) {
            float[][] x = new float[n][D];
            int[] y = new int[n];
            for (int i = 0; i < n; i++) {
                y[i] = i % 2;
                double sign = y[i] == 1 ? 1 : -1;
                // an offset and a scale per dimension that standardisation must undo
                for (int j = 0; j < D; j++) x[i][j] = (float) ((r.nextGaussian() + sign * 0.5) * (0.01 + 0.1 * j) + 3 + j);
            }
            return new Blobs(x, y);
        }
    }

    @Test
    void separatesTwoGaussianBlobs() {
        Random r = new Random(1);
        Blobs train = Blobs.draw(r, 200), test = Blobs.draw(r, 200);
        LinearProbe.Result res = LinearProbe.fit(train.x, train.y, 2, test.x, LinearProbe.Options.defaults());
        double a = auc(column(res.scores(), 1), is(test.y, 1));
        assertTrue(a > 0.95, "AUC " + a);
        int[] pred = res.predictions();
        int right = 0;
        for (int i = 0; i < pred.length; i++) if (pred[i] == test.y[i]) right++;
        assertTrue(right > 0.9 * pred.length, "accuracy " + right + "/" + pred.length);
        for (double[] row : res.scores()) assertEquals(1.0, row[0] + row[1], 1e-5, "softmax rows sum to 1");
        // the same seed gives the same probe, bit for bit
        assertArrayEquals(res.scores()[7], LinearProbe.fit(train.x, train.y, 2, test.x, LinearProbe.Options.defaults()).scores()[7]);
        // minibatches (reshuffled every epoch) reach the same quality
        LinearProbe.Result mb = LinearProbe.fit(train.x, train.y, 2, test.x, LinearProbe.Options.defaults().withBatch(32).withEpochs(50));
        double amb = auc(column(mb.scores(), 1), is(test.y, 1));
        assertTrue(amb > 0.95, "minibatch AUC " + amb);
    }

    @Test
    void shuffledLabelsGiveChance() {
        Random r = new Random(2);
        Blobs train = Blobs.draw(r, 200), test = Blobs.draw(r, 200);
        // one shuffle's probe is a random direction, whose AUC on the true labels scatters widely around 0.5
        // (sd about 0.13 here); the mean over 20 shuffles must sit at chance
        double sum = 0;
        int seeds = 20;
        for (int s = 0; s < seeds; s++) {
            int[] shuffled = train.y.clone();
            Random rs = new Random(100 + s);
            for (int i = shuffled.length - 1; i > 0; i--) {
                int j = rs.nextInt(i + 1);
                int t = shuffled[i];
                shuffled[i] = shuffled[j];
                shuffled[j] = t;
            }
            LinearProbe.Result res = LinearProbe.fit(train.x, shuffled, 2, test.x, LinearProbe.Options.defaults().withSeed(s));
            double a = auc(column(res.scores(), 1), is(test.y, 1));
            assertTrue(a > 0.1 && a < 0.9, "one shuffle's AUC " + a);
            sum += a;
        }
        double mean = sum / seeds;
        assertTrue(Math.abs(mean - 0.5) < 0.08, "mean AUC over shuffles " + mean);
    }

    @Test
    void multiLabelLearnsTwoIndependentLabels() {
        Random r = new Random(3);
        int n = 300, nt = 200;
        float[][] x = new float[n + nt][D], y = new float[n + nt][2];
        for (int i = 0; i < n + nt; i++) {
            y[i][0] = r.nextBoolean() ? 1 : 0;
            y[i][1] = r.nextBoolean() ? 1 : 0;
            for (int j = 0; j < D; j++) x[i][j] = (float) r.nextGaussian();
            for (int j = 0; j < 4; j++) x[i][j] += (y[i][0] - 0.5f) * 1.5f;          // label 0 lives in dims 0..3
            for (int j = 4; j < 8; j++) x[i][j] += (y[i][1] - 0.5f) * 1.5f;          // label 1 in dims 4..7
        }
        float[][] trainX = Arrays.copyOfRange(x, 0, n), testX = Arrays.copyOfRange(x, n, n + nt);
        float[][] trainY = Arrays.copyOfRange(y, 0, n), testY = Arrays.copyOfRange(y, n, n + nt);
        LinearProbe.Result res = LinearProbe.fitMultiLabel(trainX, trainY, testX, LinearProbe.Options.defaults());
        for (int c = 0; c < 2; c++) {
            boolean[] pos = new boolean[nt], other = new boolean[nt];
            for (int i = 0; i < nt; i++) {
                pos[i] = testY[i][c] > 0.5f;
                other[i] = testY[i][1 - c] > 0.5f;
            }
            double a = auc(column(res.scores(), c), pos);
            assertTrue(a > 0.95, "label " + c + " AUC " + a);
            double cross = auc(column(res.scores(), c), other);
            assertTrue(Math.abs(cross - 0.5) < 0.12, "label " + c + "'s score does not predict the other label: AUC " + cross);
        }
        for (double[] row : res.scores()) for (double p : row) assertTrue(p > 0 && p < 1, "sigmoid probabilities");
        assertTrue(res.trainLoss() < 0.25, "training BCE " + res.trainLoss());
    }

    @Test
    void bceWithLogitsIsStableAndHasTheRightGradient() {
        float[] z = {-100, -3, -0.5f, 0.25f, 2, 100};
        float[] t = {0, 1, 0, 1, 0.3f, 1};
        Variable logits = Variable.param(Tensor.of(z, 2, 3));
        Variable loss = LinearProbe.bceWithLogits(logits, Tensor.of(t, 2, 3));
        double want = 0;
        for (int i = 0; i < z.length; i++) {
            // in double: log(1 + exp(z)) - z t, with log1p for the large-|z| ends
            double sp = z[i] > 0 ? z[i] + Math.log1p(Math.exp(-z[i])) : Math.log1p(Math.exp(z[i]));
            want += sp - z[i] * t[i];
        }
        want /= z.length;
        assertEquals(want, loss.item(), 1e-5 * Math.max(1, Math.abs(want)));
        loss.backward();
        float[] g = logits.grad().toFloatArray();
        for (int i = 0; i < z.length; i++) {
            double sig = 1 / (1 + Math.exp(-z[i]));
            assertEquals((sig - t[i]) / z.length, g[i], 1e-6, "d loss / d z_" + i);
        }
    }

    @Test
    void standardisesWithTheTrainingStatistics() {
        float[][] x = {{1, 5, 2}, {3, 5, 4}, {5, 5, 9}};
        LinearProbe.Result res = LinearProbe.fit(x, new int[]{0, 1, 1}, 2, new float[][]{{1, 5, 2}}, LinearProbe.Options.defaults().withEpochs(1));
        assertArrayEquals(new float[]{3, 5, 5}, res.mean(), 1e-6f);
        // numpy: x.std(0) = [1.63299, 0 -> 1, 2.94392]
        assertArrayEquals(new float[]{1.6329932f, 1f, 2.9439203f}, res.std(), 1e-5f);
    }
}
