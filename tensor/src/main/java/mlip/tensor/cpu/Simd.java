package mlip.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one switch for the Vector API fast paths (DESIGN.md 10.8, after llama3.java's
 * {@code -Dllama.VectorBitSize}).
 *
 * <ul>
 *   <li>{@code -Dmlip.vectorBitSize=0}: every CPU kernel takes its plain scalar loop (A/B timing, debugging);</li>
 *   <li>{@code -Dmlip.vectorBitSize=128|256|512}: force a vector width;</li>
 *   <li>unset: {@code FloatVector.SPECIES_PREFERRED} (16 lanes on AVX-512).</li>
 * </ul>
 */
public final class Simd {

    /** The float species of every vectorised kernel, or {@code null} when vectors are switched off. */
    public static final VectorSpecies<Float> F32;

    /** True when the Vector API paths run. */
    public static final boolean ENABLED;

    static {
        int bits = Integer.getInteger("mlip.vectorBitSize", -1);
        if (bits == 0) {
            F32 = null;
        } else if (bits < 0) {
            F32 = FloatVector.SPECIES_PREFERRED;
        } else {
            F32 = VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        }
        ENABLED = F32 != null;
    }

    private Simd() {
    }

    /** Human-readable description, e.g. {@code "Vector API, 16 x f32"} or {@code "scalar"}. */
    public static String describe() {
        return ENABLED ? "Vector API, " + F32.length() + " x f32" : "scalar (-Dmlip.vectorBitSize=0)";
    }
}
