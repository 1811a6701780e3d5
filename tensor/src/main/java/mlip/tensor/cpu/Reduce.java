package mlip.tensor.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import mlip.tensor.DType;
import mlip.tensor.ReduceOp;
import mlip.tensor.Tensor;

/**
 * Reductions along dims.
 *
 * <p>The input is viewed as {@code (outer, inner)} with the kept dims first. Then one of two layouts:
 * <ul>
 *   <li><b>rows</b> (inner contiguous): each output reduces a contiguous row, cut into fixed chunks of
 *       {@link #CHUNK} elements whose partial results are combined in order — the order of additions
 *       is a function of the shape alone, so 1 and 2 threads give the same bits;</li>
 *   <li><b>columns</b> (outer contiguous, e.g. summing a bias gradient over the batch): outputs are
 *       accumulated a vector at a time, walking the reduced index in order.</li>
 * </ul>
 * Any other layout is copied to rows first. F32 accumulates in F32 lanes, F64 in double, I32 in long.
 */
final class Reduce {
    private static final VectorSpecies<Float> S = Simd.F32;
    static final int CHUNK = 1 << 14;

    private Reduce() {
    }

    static Tensor reduce(CpuBackend be, ReduceOp op, Tensor x, int[] dims, boolean keepdim) {
        int nd = x.ndim();
        int[] shape = x.shape();
        boolean[] red = new boolean[nd];
        for (int d : dims) red[d] = true;
        int[] perm = new int[nd];
        int p = 0;
        long outer = 1, inner = 1;
        for (int d = 0; d < nd; d++) if (!red[d]) { perm[p++] = d; outer *= shape[d]; }
        for (int d = 0; d < nd; d++) if (red[d]) { perm[p++] = d; inner *= shape[d]; }
        int[] outShape = outShape(shape, red, keepdim);
        Tensor out = be.empty(x.dtype(), outShape);
        if (outer == 0) return out;
        if (inner == 0) { // empty sum is 0, empty mean is NaN (as PyTorch); max/min were refused by the front end
            return be.full(outShape, x.dtype(), op == ReduceOp.MEAN ? Double.NaN : 0);
        }
        Tensor x2 = x.permute(perm).reshape((int) outer, (int) inner);
        if (x2.dtype() == DType.F32 && x2.stride(1) != 1 && x2.stride(0) == 1 && outer > 1) {
            columnsF32(be.pool(), op, x2, out);
        } else {
            if (x2.stride(1) != 1 && inner > 1) x2 = x2.contiguous();
            rows(be.pool(), op, x2, out);
        }
        return out;
    }

    static int[] outShape(int[] shape, boolean[] red, boolean keepdim) {
        int[] s = new int[shape.length];
        int n = 0;
        for (int d = 0; d < shape.length; d++) {
            if (!red[d]) s[n++] = shape[d];
            else if (keepdim) s[n++] = 1;
        }
        return Arrays.copyOf(s, n);
    }

    /** Row layout: x2 is (outer, inner) with unit inner stride (or inner == 1). */
    private static void rows(Parallel pool, ReduceOp op, Tensor x2, Tensor out) {
        int outer = x2.size(0), inner = x2.size(1), rs = x2.stride(0), base = x2.offset();
        int chunks = (inner + CHUNK - 1) / CHUNK;
        CpuStorage sx = (CpuStorage) x2.storage(), so = (CpuStorage) out.storage();
        double[] partial = new double[outer * chunks];
        pool.forTasks(outer * chunks, t -> {
            int o = t / chunks, c = t % chunks;
            int start = base + o * rs + c * CHUNK, n = Math.min(CHUNK, inner - c * CHUNK);
            partial[t] = switch (x2.dtype()) {
                case F32 -> rowF32(op, sx.f, start, n);
                case F64 -> rowF64(op, sx.d, start, n);
                case I32 -> rowI32(op, sx.i, start, n);
            };
        });
        for (int o = 0; o < outer; o++) {
            double acc = partial[o * chunks];
            for (int c = 1; c < chunks; c++) acc = combine(op, acc, partial[o * chunks + c]);
            if (op == ReduceOp.MEAN) acc /= inner;
            if (x2.dtype() == DType.F32) so.f[o] = (float) acc; // F32 partials are exact floats; only the combine is in double
            else so.set(o, acc);
        }
    }

    private static double combine(ReduceOp op, double a, double b) {
        return switch (op) {
            case SUM, MEAN -> a + b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
        };
    }

    /** One contiguous F32 row folded by {@code op}; the vector loops are leaves (see {@code Elementwise.unaryRowF32}). */
    static float rowF32(ReduceOp op, float[] x, int start, int n) {
        return switch (op) {
            case SUM, MEAN -> sumF32(x, start, n);
            case MAX -> maxF32(x, start, n, true);
            case MIN -> maxF32(x, start, n, false);
        };
    }

    static float sumF32(float[] x, int start, int n) {
        int i = 0;
        float acc = 0f;
        if (S != null) {
            FloatVector v = FloatVector.zero(S);
            for (int up = S.loopBound(n); i < up; i += S.length()) v = v.add(FloatVector.fromArray(S, x, start + i));
            acc = VectorMath.sumLanes(v);
        }
        for (; i < n; i++) acc += x[start + i];
        return acc;
    }

    /** Max (or min) of a non-empty row; NaN wins, as in PyTorch. */
    static float maxF32(float[] x, int start, int n, boolean max) {
        int i = 0;
        float acc = x[start];
        boolean nan = false;
        if (S != null && n >= S.length()) {
            FloatVector v = FloatVector.broadcast(S, x[start]);
            int up = S.loopBound(n);
            if (max) {
                for (; i < up; i += S.length()) v = v.max(FloatVector.fromArray(S, x, start + i));
            } else {
                for (; i < up; i += S.length()) v = v.min(FloatVector.fromArray(S, x, start + i));
            }
            nan = v.test(VectorOperators.IS_NAN).anyTrue();
            acc = max ? v.reduceLanes(VectorOperators.MAX) : v.reduceLanes(VectorOperators.MIN);
        }
        for (; i < n; i++) acc = max ? Math.max(acc, x[start + i]) : Math.min(acc, x[start + i]);
        return nan ? Float.NaN : acc;
    }

    private static double rowF64(ReduceOp op, double[] x, int start, int n) {
        double acc = op == ReduceOp.SUM || op == ReduceOp.MEAN ? 0 : x[start];
        for (int i = 0; i < n; i++) acc = combine(op, acc, x[start + i]);
        return acc;
    }

    private static double rowI32(ReduceOp op, int[] x, int start, int n) {
        long acc = op == ReduceOp.SUM ? 0 : x[start];
        for (int i = 0; i < n; i++) {
            int y = x[start + i];
            acc = switch (op) {
                case SUM, MEAN -> acc + y;
                case MAX -> Math.max(acc, y);
                case MIN -> Math.min(acc, y);
            };
        }
        return acc;
    }

    /** Column layout for F32: x2 is (outer, inner) with unit outer stride; out[o] folds x2[o, j] for j in order. */
    private static void columnsF32(Parallel pool, ReduceOp op, Tensor x2, Tensor out) {
        int outer = x2.size(0), inner = x2.size(1), js = x2.stride(1), base = x2.offset();
        float[] x = ((CpuStorage) x2.storage()).f, o = ((CpuStorage) out.storage()).f;
        pool.forRange(outer, 1024, (s, e) -> {
            System.arraycopy(x, base + s, o, s, e - s);
            for (int j = 1; j < inner; j++) {
                int row = base + j * js;
                int i = s;
                if (S != null) {
                    for (int up = s + S.loopBound(e - s); i < up; i += S.length()) {
                        FloatVector acc = FloatVector.fromArray(S, o, i), y = FloatVector.fromArray(S, x, row + i);
                        acc = switch (op) {
                            case SUM, MEAN -> acc.add(y);
                            case MAX -> acc.max(y);
                            case MIN -> acc.min(y);
                        };
                        acc.intoArray(o, i);
                    }
                }
                for (; i < e; i++) {
                    float y = x[row + i];
                    o[i] = switch (op) {
                        case SUM, MEAN -> o[i] + y;
                        case MAX -> Math.max(o[i], y);
                        case MIN -> Math.min(o[i], y);
                    };
                }
            }
            if (op == ReduceOp.MEAN) for (int i = s; i < e; i++) o[i] /= inner;
        });
    }

    /** First index of the max (min) along dim; NaN counts as the largest (and, for argmin, also wins). */
    static Tensor argReduce(CpuBackend be, boolean max, Tensor x, int dim, boolean keepdim) {
        int nd = x.ndim();
        boolean[] red = new boolean[nd];
        red[dim] = true;
        int[] perm = new int[nd];
        for (int d = 0, p = 0; d < nd; d++) if (d != dim) perm[p++] = d;
        perm[nd - 1] = dim;
        int n = x.size(dim);
        Tensor out = be.empty(DType.I32, outShape(x.shape(), red, keepdim));
        int outer = out.numel();
        if (outer == 0) return out;
        Tensor x2 = x.permute(perm).reshape(outer, n);
        CpuStorage sx = (CpuStorage) x2.storage();
        int[] o = ((CpuStorage) out.storage()).i;
        int rs = x2.stride(0), cs = x2.stride(1), base = x2.offset();
        be.pool().forRange(outer, Math.max(1, 4096 / n), (s, e) -> {
            for (int r = s; r < e; r++) {
                int at = base + r * rs, best = 0;
                double bv = sx.get(at);
                for (int j = 1; j < n && !Double.isNaN(bv); j++) {
                    double v = sx.get(at + j * cs);
                    if (Double.isNaN(v) || (max ? v > bv : v < bv)) {
                        bv = v;
                        best = j;
                    }
                }
                o[r] = best;
            }
        });
        return out;
    }
}
