package mlip.tensor.cpu;

import mlip.tensor.BinaryOp;
import mlip.tensor.UnaryOp;

/**
 * The scalar definition of every elementwise op, in double (F64, I32 and the reference) and float
 * (the F32 tail and the {@code -Dmlip.vectorBitSize=0} path). Java has no {@code erf}, so it is here:
 * a power series below |x| = 2.5 and the continued fraction of erfc above (both ~1e-15 in double),
 * accurate enough that F64 gradchecks of GELU see the true function.
 */
public final class ScalarMath {
    private ScalarMath() {
    }

    static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    static final double INV_SQRT2 = 1 / Math.sqrt(2);
    static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

    /** The error function to about 1e-15. */
    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        double r;
        if (ax < 2.5) {
            // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
            double x2 = ax * ax, term = ax, sum = ax;
            for (int n = 1; n < 100; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            r = TWO_OVER_SQRT_PI * sum;
        } else if (ax > 6) {
            r = 1; // erfc(6) ~ 2e-17
        } else {
            // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated bottom-up
            double f = ax;
            for (int n = 120; n >= 1; n--) f = ax + (n * 0.5) / f;
            r = 1 - Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * f);
        }
        return x < 0 ? -r : r;
    }

    /** erf in float precision (max error ~1e-7): a short series near 0, Numerical Recipes' erfc fit elsewhere. */
    public static float erf(float x) {
        float ax = Math.abs(x);
        float r;
        if (ax < 0.5f) {
            float x2 = ax * ax;
            r = (float) TWO_OVER_SQRT_PI * ax * (1f + x2 * (-1f / 3 + x2 * (1f / 10 + x2 * (-1f / 42 + x2 * (1f / 216 + x2 * (-1f / 1320))))));
        } else {
            r = 1f - erfcFit(ax);
        }
        return x < 0 ? -r : r;
    }

    /** Numerical Recipes' erfc(z) for z >= 0, fractional error < 1.2e-7. */
    static float erfcFit(float z) {
        float t = 1f / (1f + 0.5f * z);
        float p = -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f
                + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
        return t * (float) Math.exp(-z * z + p);
    }

    public static double apply(UnaryOp op, double x) {
        return switch (op) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SIGN -> Math.signum(x);
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1 / Math.sqrt(x);
            case RECIP -> 1 / x;
            case SQUARE -> x * x;
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case RELU -> x > 0 ? x : (Double.isNaN(x) ? x : 0);
            case ERF -> erf(x);
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
            case GELU_ERF -> 0.5 * x * (1 + erf(x * INV_SQRT2));
        };
    }

    public static float apply(UnaryOp op, float x) {
        return switch (op) {
            case ERF -> erf(x);
            case GELU_ERF -> 0.5f * x * (1f + erf(x * (float) INV_SQRT2));
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SQUARE -> x * x;
            case RECIP -> 1f / x;
            default -> (float) apply(op, (double) x);
        };
    }

    /** I32 versions of the ops that make sense on integers (NEG, ABS, SIGN, SQUARE, RELU). */
    public static int apply(UnaryOp op, int x) {
        return switch (op) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SIGN -> Integer.signum(x);
            case SQUARE -> x * x;
            case RELU -> Math.max(x, 0);
            default -> throw new IllegalArgumentException(op.name().toLowerCase() + ": not defined for I32");
        };
    }

    public static double apply(BinaryOp op, double x, double y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAX -> Math.max(x, y);
            case MIN -> Math.min(x, y);
            case POW -> Math.pow(x, y);
            case EQ -> x == y ? 1 : 0;
            case NE -> x != y ? 1 : 0;
            case LT -> x < y ? 1 : 0;
            case LE -> x <= y ? 1 : 0;
            case GT -> x > y ? 1 : 0;
            case GE -> x >= y ? 1 : 0;
        };
    }

    public static float apply(BinaryOp op, float x, float y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAX -> Math.max(x, y);
            case MIN -> Math.min(x, y);
            case POW -> (float) Math.pow(x, y);
            default -> (float) apply(op, (double) x, (double) y);
        };
    }

    /** Integer arithmetic: DIV truncates toward zero and throws on zero, like Java; POW goes through double. */
    public static int apply(BinaryOp op, int x, int y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> {
                if (y == 0) throw new ArithmeticException("div: integer division by zero");
                yield x / y;
            }
            case MAX -> Math.max(x, y);
            case MIN -> Math.min(x, y);
            case POW -> (int) Math.pow(x, y);
            default -> (int) apply(op, (double) x, (double) y);
        };
    }
}
