package mlip.tensor;

import java.util.Arrays;

/** Static helpers on shapes and strides (int arrays). */
public final class Shape {
    private Shape() {
    }

    /** Product of the dims; 1 for a 0-d shape. Throws if it overflows an int. */
    public static int numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + str(shape));
            n *= d;
            if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("shape " + str(shape) + " has more than 2^31-1 elements");
        }
        return (int) n;
    }

    /** Row-major (C-contiguous) strides of {@code shape}. */
    public static int[] contiguousStrides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(shape[i], 1);
        }
        return s;
    }

    /** The broadcast of two shapes (NumPy rules); the error names {@code op} and both shapes. */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int n = Math.max(a.length, b.length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int da = i < n - a.length ? 1 : a[i - (n - a.length)];
            int db = i < n - b.length ? 1 : b[i - (n - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b) + " cannot broadcast (dim " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Normalises a possibly negative dim index against {@code ndim}; the error names {@code op}. */
    public static int dim(String op, int dim, int ndim) {
        int d = dim < 0 ? dim + ndim : dim;
        if (d < 0 || d >= ndim) {
            throw new IllegalArgumentException(op + ": dim " + dim + " out of range for a " + ndim + "-d tensor");
        }
        return d;
    }

    /** {@code [2, 3]} */
    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    /**
     * Element offset (relative to {@code t.offset()}) of each matrix of a batched matmul operand: batch
     * index b walks {@code batchShape} in row-major order through t's leading (batch) strides, so
     * broadcast (stride-0) batch dims repeat a matrix. Every backend's matmul uses it.
     */
    public static int[] batchOffsets(Tensor t, int[] batchShape) {
        int batch = numel(batchShape), nb = batchShape.length;
        int[] offs = new int[batch];
        for (int b = 0; b < batch; b++) {
            int rem = b, o = 0;
            for (int d = nb - 1; d >= 0; d--) {
                o += (rem % batchShape[d]) * t.stride(d);
                rem /= batchShape[d];
            }
            offs[b] = o;
        }
        return offs;
    }
}
