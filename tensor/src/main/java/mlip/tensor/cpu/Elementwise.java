package mlip.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import mlip.tensor.BinaryOp;
import mlip.tensor.DType;
import mlip.tensor.Tensor;
import mlip.tensor.UnaryOp;

/**
 * Elementwise kernels: unary, binary, where, and strided copies with dtype conversion.
 *
 * <p>Every kernel runs row by row over a {@link StridedLoop}. F32 rows whose inner strides are 1 or
 * 0 (a broadcast) take the Vector API loop; anything else, the tail, and {@code -Dmlip.vectorBitSize=0}
 * take the scalar loop of {@link ScalarMath}. The op is chosen by a switch per vector (a predictable
 * branch), never by a per-element virtual call. F64 and I32 use plain loops: they carry gradchecks
 * and indices, not the hot path.
 */
final class Elementwise {
    private static final VectorSpecies<Float> S = Simd.F32;

    private Elementwise() {
    }

    private static CpuStorage st(Tensor t) {
        return (CpuStorage) t.storage();
    }

    // ---------------------------------------------------------------- unary

    static void unary(Parallel pool, UnaryOp op, Tensor x, Tensor out) {
        StridedLoop loop = new StridedLoop(out.shape(), x, out);
        int xs = loop.innerStride[0], os = loop.innerStride[1];
        CpuStorage sx = st(x), so = st(out);
        switch (x.dtype()) {
            case F32 -> loop.forEachRow(pool, (off, n) -> unaryRowF32(op, sx.f, off[0], xs, so.f, off[1], os, n));
            case F64 -> loop.forEachRow(pool, (off, n) -> {
                for (int i = 0; i < n; i++) so.d[off[1] + i * os] = ScalarMath.apply(op, sx.d[off[0] + i * xs]);
            });
            case I32 -> loop.forEachRow(pool, (off, n) -> {
                for (int i = 0; i < n; i++) so.i[off[1] + i * os] = ScalarMath.apply(op, sx.i[off[0] + i * xs]);
            });
        }
    }

    /**
     * One F32 row. Each op's vector loop is a leaf method that takes only arrays and ints: when vector
     * code sits in a big method (a switch over every op), C2 inlines it there, its Vector API
     * intrinsics fail and it runs ~30x slower; a vector crossing a call that is not inlined is boxed.
     * Measured on GELU at 890k floats: 14 ms inlined into a switch, 0.48 ms as a leaf.
     */
    static void unaryRowF32(UnaryOp op, float[] x, int xo, int xs, float[] o, int oo, int os, int n) {
        int i = 0;
        if (S != null && xs == 1 && os == 1) {
            i = S.loopBound(n);
            switch (op) {
                case NEG -> negRow(x, xo, o, oo, i);
                case ABS -> absRow(x, xo, o, oo, i);
                case EXP -> expRow(x, xo, o, oo, i);
                case LOG -> i = 0; // scalar Math.log: vector LOG is not bit-stable across JIT tiers
                case SQRT -> sqrtRow(x, xo, o, oo, i);
                case RSQRT -> rsqrtRow(x, xo, o, oo, i);
                case RECIP -> recipRow(x, xo, o, oo, i);
                case SQUARE -> squareRow(x, xo, o, oo, i);
                case TANH -> tanhRow(x, xo, o, oo, i);
                case SIGMOID -> sigmoidRow(x, xo, o, oo, i);
                case RELU -> reluRow(x, xo, o, oo, i);
                case GELU_TANH -> geluTanhRow(x, xo, o, oo, i);
                case ERF -> erfRow(x, xo, o, oo, i, false);
                case GELU_ERF -> erfRow(x, xo, o, oo, i, true);
                case SIGN -> i = 0; // rare: the scalar loop does it
            }
        }
        for (; i < n; i++) o[oo + i * os] = ScalarMath.apply(op, x[xo + i * xs]);
    }

    private static final FloatVector ONE = S == null ? null : FloatVector.broadcast(S, 1f);

    private static FloatVector v(float[] a, int at) {
        return FloatVector.fromArray(S, a, at);
    }

    private static void negRow(float[] x, int xo, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) v(x, xo + i).neg().intoArray(o, oo + i);
    }

    private static void absRow(float[] x, int xo, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) v(x, xo + i).abs().intoArray(o, oo + i);
    }

    private static void expRow(float[] x, int xo, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) VectorMath.exp(v(x, xo + i)).intoArray(o, oo + i);
    }

    private static void sqrtRow(float[] x, int xo, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) v(x, xo + i).sqrt().intoArray(o, oo + i);
    }

    private static void rsqrtRow(float[] x, int xo, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) ONE.div(v(x, xo + i).sqrt()).intoArray(o, oo + i);
    }

    private static void recipRow(float[] x, int xo, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) ONE.div(v(x, xo + i)).intoArray(o, oo + i);
    }

    private static void squareRow(float[] x, int xo, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) v(x, xo + i).mul(v(x, xo + i)).intoArray(o, oo + i);
    }

    private static void tanhRow(float[] x, int xo, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) VectorMath.tanh(v(x, xo + i)).intoArray(o, oo + i);
    }

    private static void sigmoidRow(float[] x, int xo, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) ONE.div(VectorMath.exp(v(x, xo + i).neg()).add(1f)).intoArray(o, oo + i);
    }

    private static void reluRow(float[] x, int xo, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) v(x, xo + i).max(0f).intoArray(o, oo + i);
    }

    private static void geluTanhRow(float[] x, int xo, float[] o, int oo, int up) {
        float c = (float) ScalarMath.SQRT_2_OVER_PI;
        for (int i = 0; i < up; i += S.length()) {
            FloatVector a = v(x, xo + i);
            FloatVector inner = a.mul(a).mul(a).mul(0.044715f).add(a).mul(c);
            a.mul(0.5f).mul(VectorMath.tanh(inner).add(1f)).intoArray(o, oo + i);
        }
    }

    /**
     * erf (or GELU's 0.5x(1+erf(x/sqrt 2))) with the same two pieces as {@link ScalarMath#erf(float)},
     * joined by blends. Three leaf passes over the row: the exponent's argument, exp in place, the
     * combination; in one method the call to {@link VectorMath#exp} is not inlined and its vectors box.
     */
    private static void erfRow(float[] x, int xo, float[] o, int oo, int up, boolean gelu) {
        float inv = gelu ? (float) ScalarMath.INV_SQRT2 : 1f;
        erfcArgRow(x, xo, o, oo, up, inv);
        expRow(o, oo, o, oo, up);
        erfCombineRow(x, xo, o, oo, up, inv, gelu);
    }

    private static FloatVector erfT(FloatVector ax) {
        return ONE.div(ax.mul(0.5f).add(1f));
    }

    /** o = -z^2 + P(t), z = x * inv, t = 1 / (1 + |z| / 2): Numerical Recipes' erfc exponent. */
    private static void erfcArgRow(float[] x, int xo, float[] o, int oo, int up, float inv) {
        for (int i = 0; i < up; i += S.length()) {
            FloatVector ax = v(x, xo + i).mul(inv).abs();
            FloatVector t = erfT(ax);
            FloatVector p = t.mul(0.17087277f).add(-0.82215223f).mul(t).add(1.48851587f).mul(t).add(-1.13520398f).mul(t).add(0.27886807f)
                    .mul(t).add(-0.18628806f).mul(t).add(0.09678418f).mul(t).add(0.37409196f).mul(t).add(1.00002368f).mul(t).add(-1.26551223f);
            ax.mul(ax).neg().add(p).intoArray(o, oo + i);
        }
    }

    /** o holds exp(erfc exponent); finish erf (series below |z| = 0.5) and optionally GELU. */
    private static void erfCombineRow(float[] x, int xo, float[] o, int oo, int up, float inv, boolean gelu) {
        float twoOverSqrtPi = (float) ScalarMath.TWO_OVER_SQRT_PI;
        for (int i = 0; i < up; i += S.length()) {
            FloatVector in = v(x, xo + i);
            FloatVector z = in.mul(inv);
            FloatVector ax = z.abs();
            FloatVector x2 = ax.mul(ax);
            FloatVector series = x2.mul(-1f / 1320).add(1f / 216).mul(x2).add(-1f / 42).mul(x2).add(1f / 10).mul(x2).add(-1f / 3).mul(x2).add(1f)
                    .mul(ax).mul(twoOverSqrtPi);
            FloatVector erfc = erfT(ax).mul(v(o, oo + i));
            FloatVector r = erfc.neg().add(1f).blend(series, ax.compare(VectorOperators.LT, 0.5f));
            r = r.blend(r.neg(), z.compare(VectorOperators.LT, 0f));
            if (gelu) r = in.mul(0.5f).mul(r.add(1f));
            r.intoArray(o, oo + i);
        }
    }

    // ---------------------------------------------------------------- binary

    static void binary(Parallel pool, BinaryOp op, Tensor a, Tensor b, Tensor out) {
        StridedLoop loop = new StridedLoop(out.shape(), a, b, out);
        int as = loop.innerStride[0], bs = loop.innerStride[1], os = loop.innerStride[2];
        CpuStorage sa = st(a), sb = st(b), so = st(out);
        switch (a.dtype()) {
            case F32 -> loop.forEachRow(pool, (off, n) -> binaryRowF32(op, sa.f, off[0], as, sb.f, off[1], bs, so.f, off[2], os, n));
            case F64 -> loop.forEachRow(pool, (off, n) -> {
                for (int i = 0; i < n; i++) so.d[off[2] + i * os] = ScalarMath.apply(op, sa.d[off[0] + i * as], sb.d[off[1] + i * bs]);
            });
            case I32 -> loop.forEachRow(pool, (off, n) -> {
                for (int i = 0; i < n; i++) so.i[off[2] + i * os] = ScalarMath.apply(op, sa.i[off[0] + i * as], sb.i[off[1] + i * bs]);
            });
        }
    }

    /**
     * One F32 row of {@code a op b}, vector loops as leaves (see {@link #unaryRowF32}). A broadcast side
     * (stride 0) reads a 16-float array filled with its value at index step 0, so each op needs one
     * leaf for every layout and no vector value is ever chosen between two.
     */
    static void binaryRowF32(BinaryOp op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int os, int n) {
        int i = 0;
        if (S != null && os == 1 && (as == 0 || as == 1) && (bs == 0 || bs == 1)) {
            i = S.loopBound(n);
            float[] va = as == 1 ? a : filled(a[ao]), vb = bs == 1 ? b : filled(b[bo]);
            int ab = as == 1 ? ao : 0, bb = bs == 1 ? bo : 0;
            switch (op) {
                case ADD -> addRow(va, ab, as, vb, bb, bs, o, oo, i);
                case SUB -> subRow(va, ab, as, vb, bb, bs, o, oo, i);
                case MUL -> mulRow(va, ab, as, vb, bb, bs, o, oo, i);
                case DIV -> divRow(va, ab, as, vb, bb, bs, o, oo, i);
                case MAX -> maxRow(va, ab, as, vb, bb, bs, o, oo, i);
                case MIN -> minRow(va, ab, as, vb, bb, bs, o, oo, i);
                case POW -> i = 0; // scalar Math.pow: vector POW is not bit-stable across JIT tiers
                case EQ -> eqRow(va, ab, as, vb, bb, bs, o, oo, i);
                case NE -> neRow(va, ab, as, vb, bb, bs, o, oo, i);
                case LT -> ltRow(va, ab, as, vb, bb, bs, o, oo, i);
                case LE -> leRow(va, ab, as, vb, bb, bs, o, oo, i);
                case GT -> gtRow(va, ab, as, vb, bb, bs, o, oo, i);
                case GE -> geRow(va, ab, as, vb, bb, bs, o, oo, i);
            }
        }
        for (; i < n; i++) o[oo + i * os] = ScalarMath.apply(op, a[ao + i * as], b[bo + i * bs]);
    }

    private static final FloatVector ZERO = S == null ? null : FloatVector.zero(S);

    private static float[] filled(float value) {
        float[] f = new float[S.length()];
        java.util.Arrays.fill(f, value);
        return f;
    }

    private static void addRow(float[] a, int ab, int as, float[] b, int bb, int bs, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) v(a, ab + i * as).add(v(b, bb + i * bs)).intoArray(o, oo + i);
    }

    private static void subRow(float[] a, int ab, int as, float[] b, int bb, int bs, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) v(a, ab + i * as).sub(v(b, bb + i * bs)).intoArray(o, oo + i);
    }

    private static void mulRow(float[] a, int ab, int as, float[] b, int bb, int bs, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) v(a, ab + i * as).mul(v(b, bb + i * bs)).intoArray(o, oo + i);
    }

    private static void divRow(float[] a, int ab, int as, float[] b, int bb, int bs, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) v(a, ab + i * as).div(v(b, bb + i * bs)).intoArray(o, oo + i);
    }

    private static void maxRow(float[] a, int ab, int as, float[] b, int bb, int bs, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) v(a, ab + i * as).max(v(b, bb + i * bs)).intoArray(o, oo + i);
    }

    private static void minRow(float[] a, int ab, int as, float[] b, int bb, int bs, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) v(a, ab + i * as).min(v(b, bb + i * bs)).intoArray(o, oo + i);
    }

    private static void eqRow(float[] a, int ab, int as, float[] b, int bb, int bs, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) ZERO.blend(1f, v(a, ab + i * as).compare(VectorOperators.EQ, v(b, bb + i * bs))).intoArray(o, oo + i);
    }

    private static void neRow(float[] a, int ab, int as, float[] b, int bb, int bs, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) ZERO.blend(1f, v(a, ab + i * as).compare(VectorOperators.NE, v(b, bb + i * bs))).intoArray(o, oo + i);
    }

    private static void ltRow(float[] a, int ab, int as, float[] b, int bb, int bs, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) ZERO.blend(1f, v(a, ab + i * as).compare(VectorOperators.LT, v(b, bb + i * bs))).intoArray(o, oo + i);
    }

    private static void leRow(float[] a, int ab, int as, float[] b, int bb, int bs, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) ZERO.blend(1f, v(a, ab + i * as).compare(VectorOperators.LE, v(b, bb + i * bs))).intoArray(o, oo + i);
    }

    private static void gtRow(float[] a, int ab, int as, float[] b, int bb, int bs, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) ZERO.blend(1f, v(a, ab + i * as).compare(VectorOperators.GT, v(b, bb + i * bs))).intoArray(o, oo + i);
    }

    private static void geRow(float[] a, int ab, int as, float[] b, int bb, int bs, float[] o, int oo, int up) {
        for (int i = 0; i < up; i += S.length()) ZERO.blend(1f, v(a, ab + i * as).compare(VectorOperators.GE, v(b, bb + i * bs))).intoArray(o, oo + i);
    }

    // ---------------------------------------------------------------- where

    static void where(Parallel pool, Tensor c, Tensor a, Tensor b, Tensor out) {
        StridedLoop loop = new StridedLoop(out.shape(), c, a, b, out);
        int cs = loop.innerStride[0], as = loop.innerStride[1], bs = loop.innerStride[2], os = loop.innerStride[3];
        CpuStorage sc = st(c), sa = st(a), sb = st(b), so = st(out);
        loop.forEachRow(pool, (off, n) -> {
            switch (out.dtype()) {
                case F32 -> {
                    for (int i = 0; i < n; i++) so.f[off[3] + i * os] = sc.get(off[0] + i * cs) != 0 ? sa.f[off[1] + i * as] : sb.f[off[2] + i * bs];
                }
                case F64 -> {
                    for (int i = 0; i < n; i++) so.d[off[3] + i * os] = sc.get(off[0] + i * cs) != 0 ? sa.d[off[1] + i * as] : sb.d[off[2] + i * bs];
                }
                case I32 -> {
                    for (int i = 0; i < n; i++) so.i[off[3] + i * os] = sc.get(off[0] + i * cs) != 0 ? sa.i[off[1] + i * as] : sb.i[off[2] + i * bs];
                }
            }
        });
    }

    // ---------------------------------------------------------------- copy

    /** {@code dst[...] = (dst dtype) src[...]} for two views of one shape. */
    static void copy(Parallel pool, Tensor src, Tensor dst) {
        StridedLoop loop = new StridedLoop(dst.shape(), src, dst);
        int ss = loop.innerStride[0], ds = loop.innerStride[1];
        CpuStorage s = st(src), d = st(dst);
        DType from = src.dtype(), to = dst.dtype();
        loop.forEachRow(pool, (off, n) -> {
            int so = off[0], o = off[1];
            if (from == to && ss == 1 && ds == 1) {
                switch (from) {
                    case F32 -> System.arraycopy(s.f, so, d.f, o, n);
                    case F64 -> System.arraycopy(s.d, so, d.d, o, n);
                    case I32 -> System.arraycopy(s.i, so, d.i, o, n);
                }
            } else if (from == DType.F32 && to == DType.F32) {
                for (int i = 0; i < n; i++) d.f[o + i * ds] = s.f[so + i * ss];
            } else if (from == DType.F64 && to == DType.F64) {
                for (int i = 0; i < n; i++) d.d[o + i * ds] = s.d[so + i * ss];
            } else if (from == DType.I32 && to == DType.I32) {
                for (int i = 0; i < n; i++) d.i[o + i * ds] = s.i[so + i * ss];
            } else {
                for (int i = 0; i < n; i++) d.set(o + i * ds, s.get(so + i * ss));
            }
        });
    }
}
