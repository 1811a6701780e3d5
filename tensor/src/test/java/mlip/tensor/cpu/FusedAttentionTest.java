package mlip.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import mlip.tensor.Composite;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import mlip.tensor.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * The fused CPU attention ({@link FusedAttention}) against the composite ({@link Composite#attention}): out,
 * lse and the three gradients in F32, with and without padded keys, Tq != Tk, strided inputs, an image whose
 * keys are all padding (the same NaN pattern), and the same bits on 1, 2 and 3 threads.
 */
class FusedAttentionTest {
    private final Generator gen = new Generator(7);

    private void matchesComposite(String what, Tensor q, Tensor k, Tensor v, Tensor pad) {
        CpuBackend be = new CpuBackend(new Parallel(2));
        Tensor dout = Tensor.randn(gen, q.size(0), q.size(1), q.size(2), v.size(3));
        Tensor[] f = be.attention(q, k, v, pad), c = Composite.attention(q, k, v, pad);
        Tensor[] fg = be.attentionBackward(dout, q, k, v, f[0], f[1], pad), cg = Composite.attentionBackward(dout, q, k, v, c[0], c[1], pad);
        String[] names = {"out", "lse", "dq", "dk", "dv"};
        Tensor[] got = {f[0], f[1], fg[0], fg[1], fg[2]}, want = {c[0], c[1], cg[0], cg[1], cg[2]};
        for (int i = 0; i < got.length; i++) {
            double[] a = got[i].toDoubleArray(), b = want[i].toDoubleArray();
            for (int j = 0; j < a.length; j++) assertEquals(Double.isNaN(b[j]), Double.isNaN(a[j]), what + " " + names[i] + "[" + j + "] NaN pattern");
            Tolerance.assertClose(what + " " + names[i], zeroNaN(got[i]), zeroNaN(want[i]));
        }
    }

    private static Tensor zeroNaN(Tensor t) {
        return Tensor.where(t.ne(t), Tensor.full(t.dtype(), t.device(), 0, t.shape()), t);
    }

    @Test
    void matchesTheCompositeWithAndWithoutPadding() {
        Tensor q = Tensor.randn(gen, 3, 2, 19, 8), k = Tensor.randn(gen, 3, 2, 23, 8), v = Tensor.randn(gen, 3, 2, 23, 8);
        matchesComposite("no padding", q, k, v, null);
        int[] flags = new int[3 * 23];
        for (int j = 17; j < 23; j++) flags[j] = 1;                  // image 0: 6 padded keys
        for (int j = 0; j < 23; j++) flags[2 * 23 + j] = 1;          // image 2: every key padded -> NaN
        Tensor pad = Tensor.of(flags, 3, 23);
        matchesComposite("padding", q, k, v, pad);
        Tensor qs = Tensor.randn(gen, 3, 19, 2, 8).transpose(1, 2);   // (B, H, T, d) as a strided view, as the model's heads
        matchesComposite("strided q", qs, k, v, null);
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        Tensor q = Tensor.randn(gen, 2, 3, 33, 16), k = Tensor.randn(gen, 2, 3, 33, 16), v = Tensor.randn(gen, 2, 3, 33, 16);
        Tensor dout = Tensor.randn(gen, 2, 3, 33, 16);
        float[][] ref = null;
        for (int threads : new int[]{1, 2, 3}) {
            CpuBackend be = new CpuBackend(new Parallel(threads));
            Tensor[] f = be.attention(q, k, v, null), g = be.attentionBackward(dout, q, k, v, f[0], f[1], null);
            float[][] now = {f[0].toFloatArray(), f[1].toFloatArray(), g[0].toFloatArray(), g[1].toFloatArray(), g[2].toFloatArray()};
            if (ref == null) ref = now;
            for (int i = 0; i < now.length; i++) assertArrayEquals(ref[i], now[i], "output " + i + " on " + threads + " threads");
        }
    }
}
