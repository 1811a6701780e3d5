package mlip.tensor;

/**
 * The one tolerance policy (DESIGN.md 10.2, after llm.c's {@code validate_result}):
 * {@code |actual - expected| <= atol + rtol * |expected|}, with constants per dtype. A test that needs
 * looser bounds calls {@link #check(String, Tensor, Tensor, double, double)} and says why in a comment.
 * NaN matches only NaN; infinities must match exactly.
 */
public final class Tolerance {
    private Tolerance() {
    }

    /** F32: a few ulps of accumulated rounding on O(1) values. */
    public static final double F32_ATOL = 1e-5, F32_RTOL = 1e-4;
    /** F64: references and gradchecks. */
    public static final double F64_ATOL = 1e-10, F64_RTOL = 1e-8;

    public static double atol(DType d) {
        return switch (d) {
            case F32 -> F32_ATOL;
            case F64 -> F64_ATOL;
            case I32 -> 0;
        };
    }

    public static double rtol(DType d) {
        return switch (d) {
            case F32 -> F32_RTOL;
            case F64 -> F64_RTOL;
            case I32 -> 0;
        };
    }

    /** True when {@code a} is within {@code atol + rtol * |b|} of {@code b}. */
    public static boolean close(double a, double b, double atol, double rtol) {
        if (Double.isNaN(a) || Double.isNaN(b)) return Double.isNaN(a) && Double.isNaN(b);
        if (Double.isInfinite(a) || Double.isInfinite(b)) return a == b;
        return Math.abs(a - b) <= atol + rtol * Math.abs(b);
    }

    /** Null when {@code actual} matches {@code expected} under the dtype's tolerance, else a message naming {@code what}, the first mismatch and the worst error. */
    public static String check(String what, Tensor actual, Tensor expected) {
        return check(what, actual, expected, atol(expected.dtype()), rtol(expected.dtype()));
    }

    public static String check(String what, Tensor actual, Tensor expected, double atol, double rtol) {
        if (!java.util.Arrays.equals(actual.shape(), expected.shape())) {
            return what + ": shape " + Shape.str(actual.shape()) + " != expected " + Shape.str(expected.shape());
        }
        double[] a = actual.toDoubleArray(), b = expected.toDoubleArray();
        int bad = 0, first = -1, worst = -1;
        double worstErr = 0;
        for (int i = 0; i < a.length; i++) {
            if (!close(a[i], b[i], atol, rtol)) {
                if (first < 0) first = i;
                bad++;
                double err = Math.abs(a[i] - b[i]);
                if (worst < 0 || err > worstErr || Double.isNaN(err)) {
                    worst = i;
                    worstErr = err;
                }
            }
        }
        if (bad == 0) return null;
        return String.format("%s: %d of %d elements differ (atol=%g rtol=%g); first at flat index %d: %s vs expected %s; worst at %d: %s vs %s",
                what, bad, a.length, atol, rtol, first, a[first], b[first], worst, a[worst], b[worst]);
    }

    /** Throws {@link AssertionError} with {@link #check}'s message when the tensors differ. */
    public static void assertClose(String what, Tensor actual, Tensor expected) {
        String m = check(what, actual, expected);
        if (m != null) throw new AssertionError(m);
    }

    public static void assertClose(String what, Tensor actual, Tensor expected, double atol, double rtol) {
        String m = check(what, actual, expected, atol, rtol);
        if (m != null) throw new AssertionError(m);
    }
}
