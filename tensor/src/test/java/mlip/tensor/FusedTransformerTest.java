package mlip.tensor;

import static mlip.tensor.TestTensors.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The transformer fusions (bias + GELU forward and backward, residual add + layer norm) on the CPU against
 * their composites ({@link Composite}) and, for the values, against double formulas: F32 (the fused loops)
 * and F64 (the composite itself), row lengths with and without a vector tail, non-contiguous inputs, rows
 * spread over several tasks, and the shape errors.
 */
class FusedTransformerTest {
    private static final int[][] SHAPES = {{3, 5}, {2, 7, 16}, {1, 1}, {300, 37}, {4, 3, 256}, {0, 8}, {2, 33}};

    /** gelu(v) in double; the tanh form when {@code tanh}. */
    private static double gelu(double v, boolean tanh) {
        if (tanh) return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
        return 0.5 * v * (1 + erfRef(v / Math.sqrt(2)));
    }

    /** gelu'(v) in double. */
    private static double geluGrad(double v, boolean tanh) {
        if (tanh) {
            double k = Math.sqrt(2 / Math.PI), th = Math.tanh(k * (v + 0.044715 * v * v * v));
            return 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * k * (1 + 3 * 0.044715 * v * v);
        }
        return 0.5 * (1 + erfRef(v / Math.sqrt(2))) + v * Math.exp(-v * v / 2) / Math.sqrt(2 * Math.PI);
    }

    @Test
    void biasGeluMatchesFormulaAndComposite() {
        Random r = rng(71);
        int t = 0;
        for (int[] shape : SHAPES) {
            for (DType dt : FLOATING) {
                for (boolean tanh : new boolean[]{false, true}) {
                    int c = shape[shape.length - 1], n = numel(shape);
                    double[] xv = randomValues(r, n, dt), bv = randomValues(r, c, dt), gv = randomValues(r, n, dt);
                    Tensor x = maybeNonContiguous(r, tensor(xv, dt, shape)), b = tensor(bv, dt, c), g = maybeNonContiguous(r, tensor(gv, dt, shape));
                    double[] fwd = new double[n], bwd = new double[n];
                    for (int i = 0; i < n; i++) {
                        double pre = dt == DType.F32 ? (float) ((float) xv[i] + (float) bv[i % c]) : xv[i] + bv[i % c];
                        fwd[i] = gelu(pre, tanh);
                        bwd[i] = gv[i] * geluGrad(pre, tanh);
                    }
                    String what = "biasGelu " + dt + " " + s(shape) + (tanh ? " tanh" : " erf") + " case " + t++;
                    Tensor out = x.biasGelu(b, tanh), dx = Tensor.biasGeluBackward(g, x, b, tanh);
                    assertValues(what + " forward", out, fwd, shape);
                    assertValues(what + " backward", dx, bwd, shape);
                    Tolerance.assertClose(what + " forward vs composite", out, Composite.biasGelu(x, b, tanh));
                    Tolerance.assertClose(what + " backward vs composite", dx, Composite.biasGeluBackward(g, x, b, tanh));
                }
            }
        }
    }

    @Test
    void addLayerNormMatchesComposite() {
        Random r = rng(72);
        for (int[] shape : SHAPES) {
            for (DType dt : FLOATING) {
                for (int affine = 0; affine < 2; affine++) {
                    int c = shape[shape.length - 1], n = numel(shape);
                    Tensor x = maybeNonContiguous(r, random(r, dt, shape)), y = maybeNonContiguous(r, random(r, dt, shape));
                    Tensor w = affine == 1 ? random(r, dt, c) : null, b = affine == 1 ? random(r, dt, c) : null;
                    Tensor.AddLayerNorm f = x.addLayerNormForward(y, w, b, 1e-5);
                    Tensor[] ref = Composite.addLayerNorm(x, y, w, b, 1e-5);
                    String what = "addLayerNorm " + dt + " " + s(shape) + " affine=" + affine;
                    assertBitsEqual(what + " sum", f.sum(), ref[0]);              // the same float add
                    Tolerance.assertClose(what + " out", f.out(), ref[1]);
                    Tolerance.assertClose(what + " mean", f.mean(), ref[2]);
                    Tolerance.assertClose(what + " rstd", f.rstd(), ref[3]);
                    assertEquals(n, f.out().numel());
                }
            }
        }
    }

    @Test
    void badShapesNameTheOp() {
        Tensor x = Tensor.zeros(2, 3);
        assertIAE(() -> x.biasGelu(Tensor.zeros(4), false), "biasGelu", "bias shape [4]", "[2, 3]");
        assertIAE(() -> x.addLayerNormForward(Tensor.zeros(3), null, null, 1e-5), "addLayerNorm", "[2, 3]", "[3]");
        assertIAE(() -> x.addLayerNormForward(Tensor.zeros(2, 3), Tensor.ones(2), null, 1e-5), "addLayerNorm", "weight shape [2]");
        assertIAE(() -> Tensor.biasGeluBackward(Tensor.zeros(3, 2), x, Tensor.zeros(3), true), "biasGeluBackward", "[3, 2]");
    }
}
