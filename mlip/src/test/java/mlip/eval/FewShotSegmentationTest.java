package mlip.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import mlip.autograd.Variable;
import mlip.nn.Linear;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.Test;

class FewShotSegmentationTest {
    static final int GRID = 4, SIZE = 16, PATCH = SIZE / GRID, D = 16;
    /** The defaults with 40 epochs (the held-out Dice is about 0.89 from 30 epochs on; 100 take 2.5 times longer). */
    static final FewShotSegmentation.Options OPTIONS = FewShotSegmentation.Options.defaults().withEpochs(40);

    /** Synthetic frozen tokens and masks: a random rectangle lesion; each patch token carries the lesion direction in proportion to its covered area. */
    record Data(float[][][] tokens, float[][] masks) {
        static Data draw(Random r, int n, double signal) {
            float[][][] tokens = new float[n][GRID * GRID][D];
            float[][] masks = new float[n][SIZE * SIZE];
            for (int i = 0; i < n; i++) {
                int w = 5 + r.nextInt(6), h = 5 + r.nextInt(6);
                int x0 = r.nextInt(SIZE - w + 1), y0 = r.nextInt(SIZE - h + 1);
                for (int y = y0; y < y0 + h; y++) for (int x = x0; x < x0 + w; x++) masks[i][y * SIZE + x] = 1;
                for (int py = 0; py < GRID; py++) {
                    for (int px = 0; px < GRID; px++) {
                        float[] t = tokens[i][py * GRID + px];
                        double cover = 0, cy = 0, cx = 0;
                        for (int y = 0; y < PATCH; y++) {
                            for (int x = 0; x < PATCH; x++) {
                                float m = masks[i][(py * PATCH + y) * SIZE + px * PATCH + x];
                                cover += m;
                                cy += m * (y - (PATCH - 1) / 2.0);
                                cx += m * (x - (PATCH - 1) / 2.0);
                            }
                        }
                        for (int j = 0; j < D; j++) t[j] = (float) (0.3 * r.nextGaussian());
                        // the 'lesion' direction (dim 0) scaled by the covered fraction, and where in the patch (dims 1, 2)
                        t[0] += (float) (signal * cover / (PATCH * PATCH));
                        t[1] += (float) (signal * cy / (PATCH * PATCH));
                        t[2] += (float) (signal * cx / (PATCH * PATCH));
                        t[3 + (py * GRID + px) % (D - 3)] += 1f;                    // a position code, as ViT tokens carry
                    }
                }
            }
            return new Data(tokens, masks);
        }
    }

    @Test
    void learnsALesionDirectionAndGeneralises() {
        Random r = new Random(5);
        Data train = Data.draw(r, 48, 3), test = Data.draw(r, 24, 3);
        FewShotSegmentation.Result res = FewShotSegmentation.fit(train.tokens, train.masks, test.tokens, SIZE, GRID, OPTIONS);
        double dice = res.meanDice(test.masks);
        assertTrue(dice > 0.8, "held-out mean Dice " + dice);
        assertTrue(dice < 1, "a rectangle's edge inside a patch cannot be placed exactly: " + dice);
        assertEquals(test.tokens.length, res.probabilities().length);
        for (float[] p : res.probabilities()) assertEquals(SIZE * SIZE, p.length);
    }

    @Test
    void theSameSeedGivesTheSameMaps() {
        Random r = new Random(7);
        Data train = Data.draw(r, 10, 3), test = Data.draw(r, 3, 3);
        FewShotSegmentation.Options o = OPTIONS.withEpochs(3).withBatch(4);
        float[][] a = FewShotSegmentation.fit(train.tokens, train.masks, test.tokens, SIZE, GRID, o).probabilities();
        float[][] b = FewShotSegmentation.fit(train.tokens, train.masks, test.tokens, SIZE, GRID, o).probabilities();
        float[][] c = FewShotSegmentation.fit(train.tokens, train.masks, test.tokens, SIZE, GRID, o.withSeed(1)).probabilities();
        for (int i = 0; i < a.length; i++) assertArrayEquals(a[i], b[i]);
        assertTrue(!java.util.Arrays.equals(a[0], c[0]), "another seed, another decoder");
    }

    @Test
    void tokensWithoutTheLesionSignalDoNotSegment() {
        Random r = new Random(6);
        Data train = Data.draw(r, 48, 0), test = Data.draw(r, 24, 0);
        FewShotSegmentation.Result res = FewShotSegmentation.fit(train.tokens, train.masks, test.tokens, SIZE, GRID, OPTIONS);
        double dice = res.meanDice(test.masks);
        assertTrue(dice < 0.6, "mean Dice without signal " + dice);
    }

    @Test
    void diceIsOneWhenBothAreEmptyAndThresholdsAtOneHalf() {
        float[] empty = new float[4];
        assertEquals(1.0, FewShotSegmentation.dice(new float[]{0.1f, 0.5f, 0.2f, 0}, empty), 0, "empty prediction (0.5 is not > 0.5), empty truth");
        assertEquals(0.0, FewShotSegmentation.dice(new float[]{0.9f, 0, 0, 0}, empty), 0, "a false positive on an empty truth");
        assertEquals(0.0, FewShotSegmentation.dice(new float[4], new float[]{1, 0, 0, 0}), 0, "a missed lesion");
        // A = {0, 1}, B = {1, 2}: 2 * 1 / (2 + 2)
        assertEquals(0.5, FewShotSegmentation.dice(new float[]{0.9f, 0.51f, 0.4f, 0}, new float[]{0, 1, 1, 0}), 1e-12);
        assertEquals((1.0 + 0.5) / 2, FewShotSegmentation.meanDice(
                new float[][]{{0, 0, 0, 0}, {1, 1, 0, 0}}, new float[][]{empty, {0, 1, 1, 0}}), 1e-12);
    }

    @Test
    void bilinearMatrixMatchesPyTorch() {
        // torch.nn.functional.interpolate(x, scale_factor=2, mode="linear", align_corners=False) on length 2
        assertArrayEquals(new float[]{1, 0, 0.75f, 0.25f, 0.25f, 0.75f, 0, 1}, FewShotSegmentation.bilinearMatrix(2, 4).toFloatArray(), 1e-7f);
        // x3 from 2: sources -1/3 -> 0, 0, 1/3, 2/3, 1, 4/3 -> 1
        assertArrayEquals(new float[]{1, 0, 1, 0, 2 / 3f, 1 / 3f, 1 / 3f, 2 / 3f, 0, 1, 0, 1}, FewShotSegmentation.bilinearMatrix(2, 6).toFloatArray(), 1e-6f);
    }

    @Test
    void conv3x3ByIm2colMatchesADirectConvolution() {
        Generator g = new Generator(9);
        int b = 2, c = 3, co = 2, h = 4, w = 5;
        Tensor x = Tensor.randn(g, b, c, h, w);
        Linear conv = new Linear(9 * c, co, true, g);
        float[] got = FewShotSegmentation.Decoder.conv3x3(Variable.of(x), conv).value().toFloatArray();
        float[] xv = x.toFloatArray(), wv = conv.weight.value().toFloatArray(), bv = conv.bias.value().toFloatArray();
        for (int n = 0; n < b; n++) {
            for (int o = 0; o < co; o++) {
                for (int y = 0; y < h; y++) {
                    for (int xx = 0; xx < w; xx++) {
                        double s = bv[o];
                        for (int dy = 0; dy < 3; dy++) {
                            for (int dx = 0; dx < 3; dx++) {
                                int sy = y + dy - 1, sx = xx + dx - 1;
                                if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
                                for (int ci = 0; ci < c; ci++) {
                                    s += wv[o * 9 * c + (dy * 3 + dx) * c + ci] * xv[((n * c + ci) * h + sy) * w + sx];
                                }
                            }
                        }
                        assertEquals(s, got[((n * co + o) * h + y) * w + xx], 1e-5, "out[" + n + "," + o + "," + y + "," + xx + "]");
                    }
                }
            }
        }
    }
}
