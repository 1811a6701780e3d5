package mlip.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector exp, tanh and lane sums that give the same bits interpreted and JIT-compiled.
 *
 * <p>Why not {@code lanewise(EXP)} and {@code reduceLanes(ADD)}: compiled code runs SVML stubs and a
 * tree-shaped lane reduction, the interpreter runs per-lane {@code Math.exp} and a sequential fold, so
 * the same call changed its last bits once the JIT kicked in (found by {@code DeterminismTest}) — and
 * when the JIT kicks in differs run to run. These versions use only add, mul, fma, compare, blend and
 * integer conversion, which are exact IEEE operations on both paths.
 *
 * <p>exp is Cephes' {@code expf}: k = round(x log2 e), r = x - k ln 2 (in two parts), a degree-6
 * polynomial, then scaling by 2^k through the exponent bits; max error ~2 ulp on [-87.3, 88.7],
 * 0 below, +inf above, NaN kept. tanh is Cephes' odd polynomial below |x| = 0.625 and
 * {@code 1 - 2 / (exp(2|x|) + 1)} above.
 */
final class VectorMath {
    private static final VectorSpecies<Float> S = Simd.F32;

    private VectorMath() {
    }

    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(-87.3f).min(88.7f);
        FloatVector t = xc.mul(1.44269504088896341f).add(0.5f);
        FloatVector k = ((IntVector) t.convert(VectorOperators.F2I, 0)).convert(VectorOperators.I2F, 0).reinterpretAsFloats();
        k = k.sub(k.broadcast(1f), k.compare(VectorOperators.GT, t)); // floor, for negative t
        FloatVector r = xc.sub(k.mul(0.693359375f)).sub(k.mul(-2.12194440e-4f));
        FloatVector p = r.mul(1.9875691500e-4f).add(1.3981999507e-3f).mul(r).add(8.3334519073e-3f).mul(r).add(4.1665795894e-2f)
                .mul(r).add(1.6666665459e-1f).mul(r).add(5.0000001201e-1f).mul(r.mul(r)).add(r).add(1f);
        IntVector bits = ((IntVector) k.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector y = p.mul(bits.reinterpretAsFloats());
        y = y.blend(0f, x.compare(VectorOperators.LT, -87.3f)).blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, 88.7f));
        return y.blend(x, x.test(VectorOperators.IS_NAN));
    }

    static FloatVector tanh(FloatVector x) {
        FloatVector ax = x.abs();
        FloatVector z = x.mul(x);
        FloatVector small = z.mul(-5.70498872745e-3f).add(2.06390887954e-2f).mul(z).add(-5.37397155531e-2f).mul(z).add(1.33314422036e-1f)
                .mul(z).add(-3.33332819422e-1f).mul(z).mul(x).add(x);
        FloatVector big = x.broadcast(1f).sub(x.broadcast(2f).div(exp(ax.mul(2f)).add(1f)));
        big = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f));
        return big.blend(small, ax.compare(VectorOperators.LT, 0.625f));
    }

    /** Sum of the lanes in index order (the interpreter's order), so compiled and interpreted code agree. */
    static float sumLanes(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < S.length(); i++) s += v.lane(i);
        return s;
    }
}
