package mlip.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import mlip.tensor.DType;
import mlip.tensor.Tensor;

/**
 * Scaled-dot-product attention on the CPU, F32 (the rules: {@code Backend.attention}; the reference:
 * {@code Composite.attention}, which the tests compare against).
 *
 * <p>Decisions:
 * <ul>
 *   <li><b>One task per head.</b> Each (b, h) runs on one thread with its own (Tq, Tk) scratch: the scores,
 *       softmax and the products of one head stay in L1/L2, and nothing of size (B, H, Tq, Tk) is allocated.
 *       The composite materialises the scores several times over (scale, mask, max, exp, sum...) and was
 *       the largest part of a demo training step before this class.</li>
 *   <li><b>GEMMs by {@link Sgemm} on the calling thread</b> with strides for the transposes: forward
 *       S = scale Q K^T, out = P V; backward dV = P^T dout, dP = dout V^T, dQ = scale dS K, dK = scale dS^T Q.</li>
 *   <li><b>Backward recomputes P</b> = exp(S - lse) from the forward's lse (what the op saves), as the CUDA
 *       kernels do. D_i = dout_i . out_i. A NaN lse (a query without a real key) makes its row of P NaN, as in
 *       the composite.</li>
 *   <li>Results depend only on the head, never on the thread count.</li>
 * </ul>
 */
final class FusedAttention {
    private static final VectorSpecies<Float> S = Simd.F32;

    private FusedAttention() {
    }

    /** One thread's (Tq, Tk) buffers: scores / probabilities and their gradient. */
    private static final class Scratch {
        float[] p = new float[0], ds = new float[0];

        Scratch ensure(int n) {
            if (p.length < n) {
                p = new float[n];
                ds = new float[n];
            }
            return this;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static float[] f(Tensor t) {
        return ((CpuStorage) t.storage()).f;
    }

    /** Padding flags (B, Tk) as an int array at offset 0, or null. */
    private static int[] padding(Tensor keyPadding) {
        if (keyPadding == null) return null;
        Tensor c = keyPadding.to(DType.I32).contiguous();
        int[] a = ((CpuStorage) c.storage()).i;
        int[] out = new int[c.numel()];
        System.arraycopy(a, c.offset(), out, 0, out.length);
        return out;
    }

    /** S = scale Q_h K_h^T into p (Tq, Tk), padded keys at -inf. */
    private static void scores(float[] q, int qo, float[] k, int ko, int[] pad, int b, int tq, int tk, int d, float scale, float[] p) {
        Sgemm.sgemm(null, tq, tk, d, scale, q, qo, d, 1, k, ko, 1, d, 0f, p, 0, tk);
        if (pad == null) return;
        for (int j = 0; j < tk; j++) {
            if (pad[b * tk + j] == 0) continue;
            for (int i = 0; i < tq; i++) p[i * tk + j] = Float.NEGATIVE_INFINITY;
        }
    }

    /** {out (B, H, Tq, d), lse (B, H, Tq)}. */
    static Tensor[] forward(CpuBackend be, Tensor q, Tensor k, Tensor v, Tensor keyPadding) {
        Tensor qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();
        int b = q.size(0), h = q.size(1), tq = q.size(2), tk = k.size(2), d = q.size(3);
        float scale = (float) (1 / Math.sqrt(d));
        int[] pad = padding(keyPadding);
        Tensor out = be.empty(DType.F32, new int[]{b, h, tq, d}), lse = be.empty(DType.F32, new int[]{b, h, tq});
        float[] qa = f(qc), ka = f(kc), va = f(vc), oa = f(out), la = f(lse);
        be.pool().forTasks(b * h, head -> {
            float[] p = SCRATCH.get().ensure(tq * tk).p;
            scores(qa, qc.offset() + head * tq * d, ka, kc.offset() + head * tk * d, pad, head / h, tq, tk, d, scale, p);
            for (int i = 0; i < tq; i++) {
                int at = i * tk;
                float max = Reduce.maxF32(p, at, tk, true);
                if (max == Float.NEGATIVE_INFINITY) {                        // no real key: NaN, as the composite
                    java.util.Arrays.fill(p, at, at + tk, Float.NaN);
                    la[head * tq + i] = Float.NaN;
                    continue;
                }
                float sum = Fused.expSumF32(p, at, p, at, tk, max);          // p_ij = exp(s_ij - max)
                la[head * tq + i] = max + (float) Math.log(sum);
                scaleRow(p, at, tk, 1f / sum);
            }
            Sgemm.sgemm(null, tq, d, tk, 1f, p, 0, tk, 1, va, vc.offset() + head * tk * d, d, 1, 0f, oa, head * tq * d, d);
        });
        return new Tensor[]{out, lse};
    }

    /** {dq, dk, dv} for dout (B, H, Tq, d). */
    static Tensor[] backward(CpuBackend be, Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor keyPadding) {
        Tensor qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous(), gc = dout.contiguous(), oc = out.contiguous(), lc = lse.contiguous();
        int b = q.size(0), h = q.size(1), tq = q.size(2), tk = k.size(2), d = q.size(3);
        float scale = (float) (1 / Math.sqrt(d));
        int[] pad = padding(keyPadding);
        Tensor dq = be.empty(DType.F32, new int[]{b, h, tq, d}), dk = be.empty(DType.F32, new int[]{b, h, tk, d}), dv = be.empty(DType.F32, new int[]{b, h, tk, d});
        float[] qa = f(qc), ka = f(kc), va = f(vc), ga = f(gc), oa = f(oc), la = f(lc), dqa = f(dq), dka = f(dk), dva = f(dv);
        be.pool().forTasks(b * h, head -> {
            Scratch sc = SCRATCH.get().ensure(tq * tk);
            float[] p = sc.p, ds = sc.ds;
            int qo = qc.offset() + head * tq * d, ko = kc.offset() + head * tk * d, vo = vc.offset() + head * tk * d;
            int go = gc.offset() + head * tq * d, oo = oc.offset() + head * tq * d;
            scores(qa, qo, ka, ko, pad, head / h, tq, tk, d, scale, p);
            for (int i = 0; i < tq; i++) expShifted(p, i * tk, tk, la[lc.offset() + head * tq + i]);   // p = exp(s - lse)
            Sgemm.sgemm(null, tk, d, tq, 1f, p, 0, 1, tk, ga, go, d, 1, 0f, dva, head * tk * d, d);           // dV = P^T dout
            Sgemm.sgemm(null, tq, tk, d, 1f, ga, go, d, 1, va, vo, 1, d, 0f, ds, 0, tk);                       // dP = dout V^T
            for (int i = 0; i < tq; i++) {
                float di = 0;                                                                               // D_i = dout_i . out_i
                for (int c = 0; c < d; c++) di += ga[go + i * d + c] * oa[oo + i * d + c];
                for (int j = i * tk; j < i * tk + tk; j++) ds[j] = p[j] * (ds[j] - di);                     // dS = P (dP - D)
            }
            Sgemm.sgemm(null, tq, d, tk, scale, ds, 0, tk, 1, ka, ko, d, 1, 0f, dqa, head * tq * d, d);        // dQ = scale dS K
            Sgemm.sgemm(null, tk, d, tq, scale, ds, 0, 1, tk, qa, qo, d, 1, 0f, dka, head * tk * d, d);        // dK = scale dS^T Q
        });
        return new Tensor[]{dq, dk, dv};
    }

    /** x[at..at+n) = exp(x - shift); -inf entries give 0 and a NaN shift gives NaN, as exp does. */
    private static void expShifted(float[] x, int at, int n, float shift) {
        int i = 0;
        if (S != null) {
            for (int up = S.loopBound(n); i < up; i += S.length()) VectorMath.exp(FloatVector.fromArray(S, x, at + i).sub(shift)).intoArray(x, at + i);
        }
        for (; i < n; i++) x[at + i] = (float) Math.exp(x[at + i] - shift);
    }

    private static void scaleRow(float[] x, int at, int n, float s) {
        int i = 0;
        if (S != null) {
            for (int up = S.loopBound(n); i < up; i += S.length()) FloatVector.fromArray(S, x, at + i).mul(s).intoArray(x, at + i);
        }
        for (; i < n; i++) x[at + i] *= s;
    }
}
