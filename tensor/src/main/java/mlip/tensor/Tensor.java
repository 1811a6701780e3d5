package mlip.tensor;

import java.util.Arrays;

/**
 * An n-dimensional array: a (shape, strides, offset) view on a {@link Storage}, immutable in shape.
 *
 * <p>Views are free: {@link #reshape}, {@link #permute}, {@link #transpose}, {@link #narrow},
 * {@link #expand}, {@link #unsqueeze} and {@link #squeeze} share the storage; {@link #contiguous()}
 * copies only when the layout needs it. Every op accepts non-contiguous inputs and returns a new
 * contiguous tensor. This class checks shapes and dtypes (errors name the op and the shapes),
 * broadcasts by {@code expand}, and hands the work to the storage's {@link Backend}.
 *
 * <pre>{@code
 * Generator g = new Generator(0);
 * Tensor x = Tensor.randn(g, 4, 8);                // (B, D)
 * Tensor w = Tensor.randn(g, 8, 3);                // (D, C)
 * Tensor p = x.matmul(w).add(1.0).softmax(-1);     // (B, C)
 * Tensor top = p.topk(1, -1, true).indices();      // (B, 1) I32
 * }</pre>
 */
public final class Tensor {
    private final Storage storage;
    private final int[] shape;
    private final int[] strides;
    private final int offset;

    /** A view on {@code storage}; most code uses the factories and view methods instead. */
    public Tensor(Storage storage, int[] shape, int[] strides, int offset) {
        if (shape.length != strides.length) {
            throw new IllegalArgumentException("Tensor: shape " + Shape.str(shape) + " and strides " + Shape.str(strides) + " differ in length");
        }
        this.storage = storage;
        this.shape = shape.clone();
        this.strides = strides.clone();
        this.offset = offset;
    }

    /** A contiguous tensor over a whole storage. */
    public static Tensor contiguousOn(Storage storage, int... shape) {
        if (Shape.numel(shape) > storage.size()) {
            throw new IllegalArgumentException("Tensor: shape " + Shape.str(shape) + " needs more than the storage's " + storage.size() + " elements");
        }
        return new Tensor(storage, shape, Shape.contiguousStrides(shape), 0);
    }

    // ---------------------------------------------------------------- creation

    private static Backend cpu() {
        return Backends.forDevice(Device.CPU);
    }

    /** F32 zeros on the CPU. */
    public static Tensor zeros(int... shape) {
        return full(DType.F32, Device.CPU, 0, shape);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        return full(dtype, Device.CPU, 0, shape);
    }

    /** F32 ones on the CPU. */
    public static Tensor ones(int... shape) {
        return full(DType.F32, Device.CPU, 1, shape);
    }

    public static Tensor ones(DType dtype, int... shape) {
        return full(dtype, Device.CPU, 1, shape);
    }

    /** A tensor of {@code shape} filled with {@code value}. */
    public static Tensor full(DType dtype, Device device, double value, int... shape) {
        Shape.numel(shape);
        return Backends.forDevice(device).full(shape.clone(), dtype, value);
    }

    /** An F32 0-d tensor. */
    public static Tensor scalar(double value) {
        return full(DType.F32, Device.CPU, value, new int[0]);
    }

    /** A 0-d tensor of {@code dtype} on {@code device}. */
    public static Tensor scalar(double value, DType dtype, Device device) {
        return full(dtype, device, value, new int[0]);
    }

    /** {@code 0, 1, ..., n-1} as I32. */
    public static Tensor arange(int n) {
        return arange(0, n, 1, DType.I32);
    }

    /** {@code 0, 1, ..., n-1} as I32, made on {@code device} (no host copy). */
    public static Tensor arange(int n, Device device) {
        return Backends.forDevice(device).arange(0, 1, n, DType.I32);
    }

    /** {@code start, start+step, ...} up to (excluding) {@code end}, like {@code torch.arange}. */
    public static Tensor arange(double start, double end, double step, DType dtype) {
        if (step == 0) throw new IllegalArgumentException("arange: step must be nonzero");
        int n = (int) Math.max(0, Math.ceil((end - start) / step));
        return cpu().arange(start, step, n, dtype);
    }

    /** Copies {@code data} into a new F32 CPU tensor of {@code shape}. */
    public static Tensor of(float[] data, int... shape) {
        return fromArray(data, data.length, DType.F32, shape);
    }

    public static Tensor of(double[] data, int... shape) {
        return fromArray(data, data.length, DType.F64, shape);
    }

    public static Tensor of(int[] data, int... shape) {
        return fromArray(data, data.length, DType.I32, shape);
    }

    private static Tensor fromArray(Object data, int length, DType dtype, int[] shape) {
        if (Shape.numel(shape) != length) {
            throw new IllegalArgumentException("of: " + length + " values do not fill shape " + Shape.str(shape));
        }
        return cpu().fromHost(data, dtype, shape.clone());
    }

    /** Uniform [0, 1) F32 values drawn from {@code g}. */
    public static Tensor rand(Generator g, int... shape) {
        return random(g, Distribution.UNIFORM, DType.F32, Device.CPU, shape);
    }

    /** Standard-normal F32 values drawn from {@code g}. */
    public static Tensor randn(Generator g, int... shape) {
        return random(g, Distribution.NORMAL, DType.F32, Device.CPU, shape);
    }

    /** Random values of {@code dtype} on {@code device}; the same (seed, stream, offset) gives the same numbers on every device. */
    public static Tensor random(Generator g, Distribution dist, DType dtype, Device device, int... shape) {
        if (!dtype.isFloating()) throw new IllegalArgumentException("random: dtype must be F32 or F64, got " + dtype);
        int n = Shape.numel(shape);
        long off = g.take(Generator.blocksFor(n, dtype));
        return Backends.forDevice(device).random(dist, g.seed(), g.stream(), off, shape.clone(), dtype);
    }

    // ---------------------------------------------------------------- properties

    public int[] shape() {
        return shape.clone();
    }

    /** Size of dim {@code d} (negative counts from the end). */
    public int size(int d) {
        return shape[Shape.dim("size", d, shape.length)];
    }

    public int[] strides() {
        return strides.clone();
    }

    public int stride(int d) {
        return strides[Shape.dim("stride", d, shape.length)];
    }

    public int offset() {
        return offset;
    }

    public int ndim() {
        return shape.length;
    }

    public int numel() {
        return Shape.numel(shape);
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Storage storage() {
        return storage;
    }

    public Backend backend() {
        return storage.backend();
    }

    public Device device() {
        return storage.backend().device();
    }

    /** True when the elements sit in row-major order with no gaps (size-1 dims may have any stride). */
    public boolean isContiguous() {
        int expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 1) continue;
            if (shape[i] == 0) return true;
            if (strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    // ---------------------------------------------------------------- views

    /** This tensor if contiguous, else a contiguous copy. */
    public Tensor contiguous() {
        return isContiguous() ? this : backend().copy(this, dtype());
    }

    /** A copy that shares nothing with this tensor. */
    public Tensor copy() {
        return backend().copy(this, dtype());
    }

    /** Converts the dtype (a copy; this tensor when the dtype is already {@code dtype}). */
    public Tensor to(DType dtype) {
        return dtype == dtype() ? this : backend().copy(this, dtype);
    }

    /** Moves to {@code device} (a copy; this tensor when already there). */
    public Tensor to(Device device) {
        if (device.equals(device())) return this;
        Tensor c = contiguous();
        return Backends.forDevice(device).fromHost(backend().toHost(c), dtype(), shape.clone());
    }

    private int[] inferShape(String op, int[] newShape) {
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException(op + ": only one dim can be -1 in " + Shape.str(newShape));
                infer = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException(op + ": invalid dim " + s[i] + " in " + Shape.str(newShape));
            } else {
                known *= s[i];
            }
        }
        int n = numel();
        if (infer >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException(op + ": cannot infer -1 in " + Shape.str(newShape) + " for " + n + " elements of shape " + Shape.str(shape));
            }
            s[infer] = (int) (n / known);
        } else if (known != n) {
            throw new IllegalArgumentException(op + ": shape " + Shape.str(newShape) + " has " + known + " elements but the tensor of shape " + Shape.str(shape) + " has " + n);
        }
        return s;
    }

    /** Strides for viewing this layout as {@code newShape} without a copy, or null when impossible (PyTorch's computeStride). */
    private int[] viewStrides(int[] newShape) {
        if (numel() == 0 || isContiguous()) return Shape.contiguousStrides(newShape);
        int[] out = new int[newShape.length];
        int viewD = newShape.length - 1;
        int chunkBase = strides.length == 0 ? 1 : strides[strides.length - 1];
        long tensorNumel = 1, viewNumel = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            tensorNumel *= shape[d];
            if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBase)) {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1)) {
                    out[viewD] = (int) (viewNumel * chunkBase);
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (d > 0) {
                    chunkBase = strides[d - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? out : null;
    }

    /** A view with {@code newShape} (one dim may be -1); throws when the layout needs a copy (use {@link #reshape}). */
    public Tensor view(int... newShape) {
        int[] s = inferShape("view", newShape);
        int[] st = viewStrides(s);
        if (st == null) {
            throw new IllegalArgumentException("view: shape " + Shape.str(s) + " is not compatible with the strides " + Shape.str(strides)
                    + " of shape " + Shape.str(shape) + "; use reshape()");
        }
        return new Tensor(storage, s, st, offset);
    }

    /** {@link #view} when the layout allows, else a contiguous copy in the new shape. */
    public Tensor reshape(int... newShape) {
        int[] s = inferShape("reshape", newShape);
        int[] st = viewStrides(s);
        return st != null ? new Tensor(storage, s, st, offset) : contiguous().view(s);
    }

    /** Collapses all dims into one. */
    public Tensor flatten() {
        return reshape(-1);
    }

    /** Reorders the dims: {@code out.shape[i] = shape[dims[i]]}. */
    public Tensor permute(int... dims) {
        if (dims.length != shape.length) {
            throw new IllegalArgumentException("permute: " + dims.length + " dims given for a tensor of shape " + Shape.str(shape));
        }
        int[] s = new int[dims.length], st = new int[dims.length];
        boolean[] seen = new boolean[dims.length];
        for (int i = 0; i < dims.length; i++) {
            int d = Shape.dim("permute", dims[i], shape.length);
            if (seen[d]) throw new IllegalArgumentException("permute: dim " + d + " repeated in " + Arrays.toString(dims));
            seen[d] = true;
            s[i] = shape[d];
            st[i] = strides[d];
        }
        return new Tensor(storage, s, st, offset);
    }

    /** Swaps two dims. */
    public Tensor transpose(int d0, int d1) {
        int a = Shape.dim("transpose", d0, shape.length), b = Shape.dim("transpose", d1, shape.length);
        int[] s = shape.clone(), st = strides.clone();
        s[a] = shape[b];
        s[b] = shape[a];
        st[a] = strides[b];
        st[b] = strides[a];
        return new Tensor(storage, s, st, offset);
    }

    /** The transpose of a 2-d tensor. */
    public Tensor t() {
        if (shape.length != 2) throw new IllegalArgumentException("t: expects a 2-d tensor, got shape " + Shape.str(shape));
        return transpose(0, 1);
    }

    /** Elements {@code [start, start + length)} of {@code dim}. */
    public Tensor narrow(int dim, int start, int length) {
        int d = Shape.dim("narrow", dim, shape.length);
        if (start < 0 || length < 0 || start + length > shape[d]) {
            throw new IllegalArgumentException("narrow: range [" + start + ", " + (start + length) + ") out of bounds for dim " + d + " of shape " + Shape.str(shape));
        }
        int[] s = shape.clone();
        s[d] = length;
        return new Tensor(storage, s, strides, offset + (length == 0 ? 0 : start * strides[d]));
    }

    /** Index {@code index} of {@code dim}, which disappears from the shape. */
    public Tensor select(int dim, int index) {
        int d = Shape.dim("select", dim, shape.length);
        int i = index < 0 ? index + shape[d] : index;
        if (i < 0 || i >= shape[d]) {
            throw new IllegalArgumentException("select: index " + index + " out of range for dim " + d + " of shape " + Shape.str(shape));
        }
        return new Tensor(storage, remove(shape, d), remove(strides, d), offset + i * strides[d]);
    }

    /** A broadcast view to {@code newShape} (-1 keeps a dim); size-1 dims get stride 0. */
    public Tensor expand(int... newShape) {
        if (newShape.length < shape.length) {
            throw new IllegalArgumentException("expand: cannot expand shape " + Shape.str(shape) + " to fewer dims " + Shape.str(newShape));
        }
        int lead = newShape.length - shape.length;
        int[] s = new int[newShape.length], st = new int[newShape.length];
        for (int i = 0; i < newShape.length; i++) {
            int want = newShape[i];
            if (i < lead) {
                if (want < 0) throw new IllegalArgumentException("expand: -1 not allowed in a new leading dim of " + Shape.str(newShape));
                s[i] = want;
                st[i] = 0;
                continue;
            }
            int have = shape[i - lead];
            if (want == -1 || want == have) {
                s[i] = have;
                st[i] = strides[i - lead];
            } else if (have == 1 && want >= 0) {
                s[i] = want;
                st[i] = 0;
            } else {
                throw new IllegalArgumentException("expand: shape " + Shape.str(shape) + " cannot expand to " + Shape.str(newShape));
            }
        }
        return new Tensor(storage, s, st, offset);
    }

    /** Inserts a size-1 dim at {@code dim} (in {@code [-ndim-1, ndim]}). */
    public Tensor unsqueeze(int dim) {
        int d = Shape.dim("unsqueeze", dim, shape.length + 1);
        int[] s = new int[shape.length + 1], st = new int[shape.length + 1];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (i == d) {
                s[i] = 1;
                st[i] = d < shape.length ? strides[d] * shape[d] : 1;
            } else {
                s[i] = shape[j];
                st[i] = strides[j++];
            }
        }
        return new Tensor(storage, s, st, offset);
    }

    /** Removes {@code dim} if it has size 1 (else returns this, as PyTorch does). */
    public Tensor squeeze(int dim) {
        int d = Shape.dim("squeeze", dim, shape.length);
        if (shape[d] != 1) return this;
        return new Tensor(storage, remove(shape, d), remove(strides, d), offset);
    }

    /** Removes every size-1 dim. */
    public Tensor squeeze() {
        int n = 0;
        for (int v : shape) if (v != 1) n++;
        int[] s = new int[n], st = new int[n];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (shape[i] != 1) {
                s[j] = shape[i];
                st[j++] = strides[i];
            }
        }
        return new Tensor(storage, s, st, offset);
    }

    private static int[] remove(int[] a, int i) {
        int[] r = new int[a.length - 1];
        System.arraycopy(a, 0, r, 0, i);
        System.arraycopy(a, i + 1, r, i, a.length - i - 1);
        return r;
    }

    /** Writes {@code src} (broadcast to this view's shape, any dtype) into this view, in place. Returns this. */
    public Tensor copyFrom(Tensor src) {
        sameDevice("copyFrom", src);
        if (!Arrays.equals(Shape.broadcast("copyFrom", src.shape, shape), shape)) {
            throw new IllegalArgumentException("copyFrom: source shape " + Shape.str(src.shape) + " does not broadcast to destination shape " + Shape.str(shape));
        }
        backend().copyInto(src.expand(shape), this);
        return this;
    }

    // ---------------------------------------------------------------- elementwise

    private void sameDevice(String op, Tensor o) {
        if (!device().equals(o.device())) {
            throw new IllegalArgumentException(op + ": tensors on different devices (" + device() + " and " + o.device() + ")");
        }
    }

    private void sameDtype(String op, Tensor o) {
        if (dtype() != o.dtype()) {
            throw new IllegalArgumentException(op + ": dtypes differ (" + dtype() + " " + Shape.str(shape) + " and " + o.dtype() + " " + Shape.str(o.shape)
                    + "); convert one with to(DType)");
        }
    }

    private void needFloating(String op) {
        if (!dtype().isFloating()) throw new IllegalArgumentException(op + ": needs an F32 or F64 tensor, got " + dtype() + " " + Shape.str(shape));
    }

    /** {@code this op other} with broadcasting. */
    public Tensor binary(BinaryOp op, Tensor other) {
        String name = op.name().toLowerCase();
        sameDevice(name, other);
        sameDtype(name, other);
        int[] out = Shape.broadcast(name, shape, other.shape);
        return backend().binary(op, expand(out), other.expand(out));
    }

    private Tensor binary(BinaryOp op, double s) {
        return binary(op, scalar(s, dtype(), device()));
    }

    public Tensor unary(UnaryOp op) {
        if (op != UnaryOp.NEG && op != UnaryOp.ABS && op != UnaryOp.SIGN && op != UnaryOp.RELU && op != UnaryOp.SQUARE) {
            needFloating(op.name().toLowerCase());
        }
        return backend().unary(op, this);
    }

    public Tensor add(Tensor o) { return binary(BinaryOp.ADD, o); }
    public Tensor sub(Tensor o) { return binary(BinaryOp.SUB, o); }
    public Tensor mul(Tensor o) { return binary(BinaryOp.MUL, o); }
    /** True division for F32/F64; I32 divides toward zero. */
    public Tensor div(Tensor o) { return binary(BinaryOp.DIV, o); }
    public Tensor maximum(Tensor o) { return binary(BinaryOp.MAX, o); }
    public Tensor minimum(Tensor o) { return binary(BinaryOp.MIN, o); }
    public Tensor pow(Tensor o) { return binary(BinaryOp.POW, o); }
    public Tensor eq(Tensor o) { return binary(BinaryOp.EQ, o); }
    public Tensor ne(Tensor o) { return binary(BinaryOp.NE, o); }
    public Tensor lt(Tensor o) { return binary(BinaryOp.LT, o); }
    public Tensor le(Tensor o) { return binary(BinaryOp.LE, o); }
    public Tensor gt(Tensor o) { return binary(BinaryOp.GT, o); }
    public Tensor ge(Tensor o) { return binary(BinaryOp.GE, o); }

    public Tensor add(double s) { return binary(BinaryOp.ADD, s); }
    public Tensor sub(double s) { return binary(BinaryOp.SUB, s); }
    public Tensor mul(double s) { return binary(BinaryOp.MUL, s); }
    public Tensor div(double s) { return binary(BinaryOp.DIV, s); }
    public Tensor pow(double s) { return binary(BinaryOp.POW, s); }
    public Tensor maximum(double s) { return binary(BinaryOp.MAX, s); }
    public Tensor minimum(double s) { return binary(BinaryOp.MIN, s); }
    public Tensor eq(double s) { return binary(BinaryOp.EQ, s); }
    public Tensor ne(double s) { return binary(BinaryOp.NE, s); }
    public Tensor lt(double s) { return binary(BinaryOp.LT, s); }
    public Tensor le(double s) { return binary(BinaryOp.LE, s); }
    public Tensor gt(double s) { return binary(BinaryOp.GT, s); }
    public Tensor ge(double s) { return binary(BinaryOp.GE, s); }

    public Tensor neg() { return unary(UnaryOp.NEG); }
    public Tensor abs() { return unary(UnaryOp.ABS); }
    public Tensor sign() { return unary(UnaryOp.SIGN); }
    public Tensor exp() { return unary(UnaryOp.EXP); }
    public Tensor log() { return unary(UnaryOp.LOG); }
    public Tensor sqrt() { return unary(UnaryOp.SQRT); }
    public Tensor rsqrt() { return unary(UnaryOp.RSQRT); }
    public Tensor reciprocal() { return unary(UnaryOp.RECIP); }
    public Tensor square() { return unary(UnaryOp.SQUARE); }
    public Tensor tanh() { return unary(UnaryOp.TANH); }
    public Tensor sigmoid() { return unary(UnaryOp.SIGMOID); }
    public Tensor relu() { return unary(UnaryOp.RELU); }
    public Tensor erf() { return unary(UnaryOp.ERF); }

    /** GELU: {@code tanhApprox} picks {@code 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3)))} over the exact {@code 0.5x(1+erf(x/sqrt 2))}. */
    public Tensor gelu(boolean tanhApprox) {
        return unary(tanhApprox ? UnaryOp.GELU_TANH : UnaryOp.GELU_ERF);
    }

    /** {@code cond != 0 ? a : b} with broadcasting over all three. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        a.sameDevice("where", b);
        a.sameDevice("where", cond);
        a.sameDtype("where", b);
        int[] out = Shape.broadcast("where", Shape.broadcast("where", cond.shape, a.shape), b.shape);
        return a.backend().where(cond.expand(out), a.expand(out), b.expand(out));
    }

    /** {@code value} where {@code mask != 0} (mask broadcasts to this shape), else this. */
    public Tensor maskedFill(Tensor mask, double value) {
        if (!Arrays.equals(Shape.broadcast("maskedFill", mask.shape, shape), shape)) {
            throw new IllegalArgumentException("maskedFill: mask shape " + Shape.str(mask.shape) + " does not broadcast to " + Shape.str(shape));
        }
        return where(mask, scalar(value, dtype(), device()), this);
    }

    // ---------------------------------------------------------------- reductions

    private int[] normDims(String op, int[] dims) {
        int[] d = new int[dims.length];
        for (int i = 0; i < dims.length; i++) d[i] = Shape.dim(op, dims[i], shape.length);
        Arrays.sort(d);
        for (int i = 1; i < d.length; i++) {
            if (d[i] == d[i - 1]) throw new IllegalArgumentException(op + ": dim " + d[i] + " repeated in " + Arrays.toString(dims));
        }
        return d;
    }

    private static int[] allDims(int n) {
        int[] d = new int[n];
        for (int i = 0; i < n; i++) d[i] = i;
        return d;
    }

    /** Reduces the given dims (negative counts from the end); an empty array reduces nothing — the no-argument forms reduce all. */
    public Tensor reduce(ReduceOp op, int[] dims, boolean keepdim) {
        String name = op.name().toLowerCase();
        if (op == ReduceOp.MEAN) needFloating(name);
        int[] d = normDims(name, dims);
        if ((op == ReduceOp.MAX || op == ReduceOp.MIN)) {
            for (int k : d) {
                if (shape[k] == 0) throw new IllegalArgumentException(name + ": cannot reduce the empty dim " + k + " of shape " + Shape.str(shape));
            }
        }
        return backend().reduce(op, this, d, keepdim);
    }

    /** Sum of all elements (0-d). */
    public Tensor sum() { return reduce(ReduceOp.SUM, allDims(shape.length), false); }
    public Tensor sum(int dim, boolean keepdim) { return reduce(ReduceOp.SUM, new int[]{dim}, keepdim); }
    public Tensor sum(int[] dims, boolean keepdim) { return reduce(ReduceOp.SUM, dims, keepdim); }
    public Tensor mean() { return reduce(ReduceOp.MEAN, allDims(shape.length), false); }
    public Tensor mean(int dim, boolean keepdim) { return reduce(ReduceOp.MEAN, new int[]{dim}, keepdim); }
    public Tensor mean(int[] dims, boolean keepdim) { return reduce(ReduceOp.MEAN, dims, keepdim); }
    public Tensor max() { return reduce(ReduceOp.MAX, allDims(shape.length), false); }
    public Tensor max(int dim, boolean keepdim) { return reduce(ReduceOp.MAX, new int[]{dim}, keepdim); }
    public Tensor min() { return reduce(ReduceOp.MIN, allDims(shape.length), false); }
    public Tensor min(int dim, boolean keepdim) { return reduce(ReduceOp.MIN, new int[]{dim}, keepdim); }

    /** I32 index of the first maximum along {@code dim}. */
    public Tensor argmax(int dim, boolean keepdim) {
        return argReduce(true, dim, keepdim);
    }

    public Tensor argmin(int dim, boolean keepdim) {
        return argReduce(false, dim, keepdim);
    }

    private Tensor argReduce(boolean max, int dim, boolean keepdim) {
        String name = max ? "argmax" : "argmin";
        int d = Shape.dim(name, dim, shape.length);
        if (shape[d] == 0) throw new IllegalArgumentException(name + ": dim " + d + " of shape " + Shape.str(shape) + " is empty");
        return backend().argReduce(max, this, d, keepdim);
    }

    // ---------------------------------------------------------------- linear algebra

    /**
     * Matrix product with PyTorch's rules: 2-d x 2-d, batched {@code (..., M, K) @ (..., K, N)} with
     * broadcast batch dims, and 1-d operands promoted (and the added dim removed afterwards).
     * Transposed operands are views: the GEMM packs them without a copy.
     */
    public Tensor matmul(Tensor other) {
        sameDevice("matmul", other);
        sameDtype("matmul", other);
        if (dtype() == DType.I32) throw new IllegalArgumentException("matmul: I32 is not supported (shapes " + Shape.str(shape) + " and " + Shape.str(other.shape) + ")");
        if (shape.length == 0 || other.shape.length == 0) {
            throw new IllegalArgumentException("matmul: 0-d operand (shapes " + Shape.str(shape) + " and " + Shape.str(other.shape) + ")");
        }
        Tensor a = shape.length == 1 ? unsqueeze(0) : this;
        Tensor b = other.shape.length == 1 ? other.unsqueeze(1) : other;
        int m = a.shape[a.shape.length - 2], k = a.shape[a.shape.length - 1];
        int k2 = b.shape[b.shape.length - 2], n = b.shape[b.shape.length - 1];
        if (k != k2) {
            throw new IllegalArgumentException("matmul: shapes " + Shape.str(shape) + " and " + Shape.str(other.shape) + " do not agree (" + k + " vs " + k2 + ")");
        }
        int[] batch;
        try {
            batch = Shape.broadcast("matmul", Arrays.copyOf(a.shape, a.shape.length - 2), Arrays.copyOf(b.shape, b.shape.length - 2));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("matmul: batch dims of shapes " + Shape.str(shape) + " and " + Shape.str(other.shape) + " cannot broadcast");
        }
        int[] sa = Arrays.copyOf(batch, batch.length + 2), sb = Arrays.copyOf(batch, batch.length + 2);
        sa[batch.length] = m;
        sa[batch.length + 1] = k;
        sb[batch.length] = k;
        sb[batch.length + 1] = n;
        Tensor out = backend().matmul(a.expand(sa), b.expand(sb));
        if (shape.length == 1) out = out.squeeze(out.ndim() - 2);
        if (other.shape.length == 1) out = out.squeeze(out.ndim() - 1);
        return out;
    }

    /** Strict batched product: {@code (B, M, K) @ (B, K, N)}. */
    public Tensor bmm(Tensor other) {
        if (shape.length != 3 || other.shape.length != 3 || shape[0] != other.shape[0]) {
            throw new IllegalArgumentException("bmm: expects (B, M, K) and (B, K, N), got " + Shape.str(shape) + " and " + Shape.str(other.shape));
        }
        return matmul(other);
    }

    // ---------------------------------------------------------------- indexing

    private static void needIndex(String op, Tensor index) {
        if (index.dtype() != DType.I32) {
            throw new IllegalArgumentException(op + ": index must be I32, got " + index.dtype() + " " + Shape.str(index.shape));
        }
    }

    /** {@code out[i][j] = x[i][index[i][j]]} for dim 1, and likewise for any dim; out has index's shape. */
    public Tensor gather(int dim, Tensor index) {
        needIndex("gather", index);
        sameDevice("gather", index);
        int d = Shape.dim("gather", dim, shape.length);
        checkScatterShapes("gather", d, index, this, null);
        return backend().gather(this, d, index);
    }

    /** Slices of {@code dim} picked by the 1-d I32 {@code index}. */
    public Tensor indexSelect(int dim, Tensor index) {
        needIndex("indexSelect", index);
        sameDevice("indexSelect", index);
        int d = Shape.dim("indexSelect", dim, shape.length);
        if (index.ndim() != 1) throw new IllegalArgumentException("indexSelect: index must be 1-d, got shape " + Shape.str(index.shape));
        return backend().indexSelect(this, d, index);
    }

    /** A copy of this with {@code src} added at the positions {@code index} names along {@code dim}. */
    public Tensor scatterAdd(int dim, Tensor index, Tensor src) {
        needIndex("scatterAdd", index);
        sameDevice("scatterAdd", index);
        sameDevice("scatterAdd", src);
        sameDtype("scatterAdd", src);
        int d = Shape.dim("scatterAdd", dim, shape.length);
        checkScatterShapes("scatterAdd", d, index, this, src);
        return backend().scatterAdd(this, d, index, src);
    }

    private static void checkScatterShapes(String op, int dim, Tensor index, Tensor self, Tensor src) {
        boolean ok = index.ndim() == self.ndim() && (src == null || src.ndim() == self.ndim());
        for (int i = 0; ok && i < index.ndim(); i++) {
            if (i != dim && index.shape[i] > self.shape[i]) ok = false;
            if (src != null && index.shape[i] > src.shape[i]) ok = false;
        }
        if (!ok) {
            throw new IllegalArgumentException(op + ": index shape " + Shape.str(index.shape) + " does not fit input shape " + Shape.str(self.shape)
                    + (src == null ? "" : " and src shape " + Shape.str(src.shape)) + " along dim " + dim);
        }
    }

    /** Rows of {@code weight (V, D)} picked by I32 {@code ids (...)}: out {@code (..., D)}. */
    public static Tensor embedding(Tensor weight, Tensor ids) {
        if (weight.ndim() != 2) throw new IllegalArgumentException("embedding: weight must be (V, D), got " + Shape.str(weight.shape));
        needIndex("embedding", ids);
        int[] out = Arrays.copyOf(ids.shape, ids.shape.length + 1);
        out[ids.shape.length] = weight.shape[1];
        return weight.indexSelect(0, ids.reshape(-1)).view(out);
    }

    /** Concatenation along {@code dim}. */
    public static Tensor cat(int dim, Tensor... xs) {
        if (xs.length == 0) throw new IllegalArgumentException("cat: no tensors");
        Tensor first = xs[0];
        int d = Shape.dim("cat", dim, first.ndim());
        for (Tensor x : xs) {
            first.sameDevice("cat", x);
            first.sameDtype("cat", x);
            boolean ok = x.ndim() == first.ndim();
            for (int i = 0; ok && i < x.ndim(); i++) ok = i == d || x.shape[i] == first.shape[i];
            if (!ok) throw new IllegalArgumentException("cat: shapes " + Shape.str(first.shape) + " and " + Shape.str(x.shape) + " differ outside dim " + d);
        }
        return first.backend().cat(xs.clone(), d);
    }

    /** Stacks equal-shaped tensors along a new dim. */
    public static Tensor stack(int dim, Tensor... xs) {
        if (xs.length == 0) throw new IllegalArgumentException("stack: no tensors");
        int d = Shape.dim("stack", dim, xs[0].ndim() + 1);
        Tensor[] u = new Tensor[xs.length];
        for (int i = 0; i < xs.length; i++) {
            if (!Arrays.equals(xs[i].shape, xs[0].shape)) {
                throw new IllegalArgumentException("stack: shapes " + Shape.str(xs[0].shape) + " and " + Shape.str(xs[i].shape) + " differ");
            }
            u[i] = xs[i].unsqueeze(d);
        }
        return cat(d, u);
    }

    /** Values and I32 indices of a {@link #topk}. */
    public record TopK(Tensor values, Tensor indices) {
    }

    /** The {@code k} largest (or smallest) along {@code dim}, sorted; ties go to the lower index. */
    public TopK topk(int k, int dim, boolean largest) {
        int d = Shape.dim("topk", dim, shape.length);
        if (k < 0 || k > shape[d]) throw new IllegalArgumentException("topk: k=" + k + " out of range for dim " + d + " of shape " + Shape.str(shape));
        Tensor[] r = backend().topk(this, k, d, largest);
        return new TopK(r[0], r[1]);
    }

    // ---------------------------------------------------------------- fused

    public Tensor softmax(int dim) {
        needFloating("softmax");
        return backend().softmax(this, Shape.dim("softmax", dim, shape.length), false);
    }

    public Tensor logSoftmax(int dim) {
        needFloating("logSoftmax");
        return backend().softmax(this, Shape.dim("logSoftmax", dim, shape.length), true);
    }

    /** Results of {@link #layerNormForward}: the output and the per-row statistics backward needs. */
    public record LayerNorm(Tensor out, Tensor mean, Tensor rstd) {
    }

    /** Layer norm over the last dim with optional affine {@code weight}/{@code bias} of shape {@code [D]}. */
    public Tensor layerNorm(Tensor weight, Tensor bias, double eps) {
        return layerNormForward(weight, bias, eps).out();
    }

    /** Layer norm that also returns the mean and 1/std of each row. */
    public LayerNorm layerNormForward(Tensor weight, Tensor bias, double eps) {
        needFloating("layerNorm");
        if (shape.length == 0) throw new IllegalArgumentException("layerNorm: needs at least 1 dim");
        int dd = shape[shape.length - 1];
        for (Tensor p : new Tensor[]{weight, bias}) {
            if (p == null) continue;
            sameDevice("layerNorm", p);
            sameDtype("layerNorm", p);
            if (p.ndim() != 1 || p.shape[0] != dd) {
                throw new IllegalArgumentException("layerNorm: weight/bias shape " + Shape.str(p.shape) + " does not match the last dim of " + Shape.str(shape));
            }
        }
        Tensor[] r = backend().layerNorm(this, weight, bias, eps);
        return new LayerNorm(r[0], r[1], r[2]);
    }

    /**
     * {@code gelu(x + bias)} in one pass for {@code bias (C)}, C = the last dim (the bias of the Linear before
     * the GELU); see {@link Backend#biasGelu}.
     *
     * <pre>{@code
     * Tensor h = x.matmul(w1t).biasGelu(b1, false);   // (B, T, 4D): the MLP's first layer, exact GELU
     * }</pre>
     */
    public Tensor biasGelu(Tensor bias, boolean tanhApprox) {
        checkRowParam("biasGelu", "bias", bias);
        return backend().biasGelu(this, bias, tanhApprox);
    }

    /** {@code dout * gelu'(x + bias)}, x's shape: the gradient of {@link #biasGelu} for x (and, summed over rows, for bias). */
    public static Tensor biasGeluBackward(Tensor dout, Tensor x, Tensor bias, boolean tanhApprox) {
        x.checkRowParam("biasGeluBackward", "bias", bias);
        x.sameDevice("biasGeluBackward", dout);
        x.sameDtype("biasGeluBackward", dout);
        if (!Arrays.equals(dout.shape, x.shape)) {
            throw new IllegalArgumentException("biasGeluBackward: dout " + Shape.str(dout.shape) + " and x " + Shape.str(x.shape) + " differ");
        }
        return x.backend().biasGeluBackward(dout, x, bias, tanhApprox);
    }

    private void checkRowParam(String op, String what, Tensor p) {
        needFloating(op);
        if (shape.length == 0) throw new IllegalArgumentException(op + ": needs at least 1 dim");
        sameDevice(op, p);
        sameDtype(op, p);
        if (p.ndim() != 1 || p.shape[0] != shape[shape.length - 1]) {
            throw new IllegalArgumentException(op + ": " + what + " shape " + Shape.str(p.shape) + " does not match the last dim of " + Shape.str(shape));
        }
    }

    /** Results of {@link #addLayerNormForward}: the residual sum, its layer norm, and the norm's row statistics. */
    public record AddLayerNorm(Tensor sum, Tensor out, Tensor mean, Tensor rstd) {
    }

    /**
     * {@code sum = this + y} and {@code layerNorm(sum)} in one pass (the residual stream and the next norm of a
     * transformer block); {@code y} has this tensor's shape. See {@link Backend#addLayerNorm}.
     *
     * <pre>{@code
     * Tensor.AddLayerNorm r = x.addLayerNormForward(attnOut, w2, b2, 1e-6);   // r.sum(): the new x, r.out(): norm2(x)
     * }</pre>
     */
    public AddLayerNorm addLayerNormForward(Tensor y, Tensor weight, Tensor bias, double eps) {
        needFloating("addLayerNorm");
        sameDevice("addLayerNorm", y);
        sameDtype("addLayerNorm", y);
        if (!Arrays.equals(shape, y.shape)) {
            throw new IllegalArgumentException("addLayerNorm: shapes " + Shape.str(shape) + " and " + Shape.str(y.shape) + " differ (no broadcasting)");
        }
        if (weight != null) checkRowParam("addLayerNorm", "weight", weight);
        if (bias != null) checkRowParam("addLayerNorm", "bias", bias);
        Tensor[] r = backend().addLayerNorm(this, y, weight, bias, eps);
        return new AddLayerNorm(r[0], r[1], r[2], r[3]);
    }

    /**
     * Cross-entropy of logits {@code (N, C)} against I32 targets {@code (N)} (PyTorch's
     * {@code F.cross_entropy} with {@code ignore_index} and {@code label_smoothing}).
     */
    public Tensor crossEntropy(Tensor target, int ignoreIndex, double labelSmoothing, Reduction reduction) {
        needFloating("crossEntropy");
        needIndex("crossEntropy", target);
        sameDevice("crossEntropy", target);
        if (shape.length != 2 || target.ndim() != 1 || target.shape[0] != shape[0]) {
            throw new IllegalArgumentException("crossEntropy: expects logits (N, C) and target (N), got " + Shape.str(shape) + " and " + Shape.str(target.shape));
        }
        if (labelSmoothing < 0 || labelSmoothing > 1) throw new IllegalArgumentException("crossEntropy: label smoothing must be in [0, 1], got " + labelSmoothing);
        return backend().crossEntropy(this, target, ignoreIndex, labelSmoothing, reduction);
    }

    /** Mean cross-entropy, no ignore index, no smoothing. */
    public Tensor crossEntropy(Tensor target) {
        return crossEntropy(target, -100, 0, Reduction.MEAN);
    }

    /** Results of {@link #attention}: {@code out (B, H, Tq, d)} and {@code lse (B, H, Tq)}, each query's log-sum-exp of its scaled scores. */
    public record AttentionResult(Tensor out, Tensor lse) {
    }

    /**
     * Fused scaled-dot-product attention: {@code out = softmax(q k^T / sqrt(d)) v} over the keys that are not
     * padding, for {@code q (B, H, Tq, d)} and {@code k}, {@code v (B, H, Tk, d)} (Tq may differ from Tk);
     * {@code keyPadding (B, Tk)} is nonzero (any dtype) where a key is padding, or null. Also returns
     * {@code lse (B, H, Tq)}, the log-sum-exp of each query's scaled scores, from which {@link #attentionBackward}
     * rebuilds the probabilities: the {@code (B, H, Tq, Tk)} probabilities are not kept (the CUDA kernels never
     * build them). A query whose keys are all padding gets NaN in out and lse (as PyTorch's softmax over only
     * -inf); callers keep one real key (CLS). See {@link Backend#attention}.
     *
     * <pre>{@code
     * Tensor.AttentionResult a = Tensor.attention(q, k, v, keyPadding);                          // (B, H, T, d), (B, H, T)
     * Tensor.AttentionGrads g = Tensor.attentionBackward(dout, q, k, v, a.out(), a.lse(), keyPadding);
     * }</pre>
     */
    public static AttentionResult attention(Tensor q, Tensor k, Tensor v, Tensor keyPadding) {
        checkAttention("attention", q, k, v, keyPadding);
        Tensor[] r = q.backend().attention(q, k, v, paddingMask(keyPadding));
        return new AttentionResult(r[0], r[1]);
    }

    /** Gradients of {@link #attention}'s output: {@code dq (B, H, Tq, d)}, {@code dk}, {@code dv (B, H, Tk, d)}. */
    public record AttentionGrads(Tensor dq, Tensor dk, Tensor dv) {
    }

    /**
     * The backward of {@link #attention} for {@code dout (B, H, Tq, d)}, given the same q, k, v and key padding and
     * the forward's {@code out} and {@code lse}: the probabilities are recomputed as {@code exp(q k^T / sqrt(d) - lse)}.
     * A query with no real key (NaN lse) makes its dq and the dk, dv of every key of its head NaN (as the
     * composite through the materialised probabilities does).
     */
    public static AttentionGrads attentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor keyPadding) {
        String op = "attentionBackward";
        checkAttention(op, q, k, v, keyPadding);
        checkAttentionOperand(op, "dout", dout, q, q.shape);
        checkAttentionOperand(op, "out", out, q, q.shape);
        checkAttentionOperand(op, "lse", lse, q, Arrays.copyOf(q.shape, 3));
        Tensor[] r = q.backend().attentionBackward(dout, q, k, v, out, lse, paddingMask(keyPadding));
        return new AttentionGrads(r[0], r[1], r[2]);
    }

    /** Dtypes, devices and shapes of attention's q, k, v and key padding mask. */
    private static void checkAttention(String op, Tensor q, Tensor k, Tensor v, Tensor keyPadding) {
        q.needFloating(op);
        q.sameDtype(op, k);
        q.sameDtype(op, v);
        q.sameDevice(op, k);
        q.sameDevice(op, v);
        if (q.ndim() != 4 || k.ndim() != 4 || q.shape[3] != k.shape[3] || q.shape[0] != k.shape[0] || q.shape[1] != k.shape[1]) {
            throw new IllegalArgumentException(op + ": expects q (B, H, Tq, d) and k (B, H, Tk, d), got " + Shape.str(q.shape) + " and " + Shape.str(k.shape));
        }
        if (!Arrays.equals(v.shape, k.shape)) {
            throw new IllegalArgumentException(op + ": v " + Shape.str(v.shape) + " must have k's shape (B, H, Tk, d) = " + Shape.str(k.shape));
        }
        if (k.shape[2] == 0 || k.shape[3] == 0) {
            throw new IllegalArgumentException(op + ": needs at least one key and d >= 1, got k " + Shape.str(k.shape));
        }
        if (keyPadding != null) {
            q.sameDevice(op, keyPadding);
            if (keyPadding.ndim() != 2 || keyPadding.shape[0] != k.shape[0] || keyPadding.shape[1] != k.shape[2]) {
                throw new IllegalArgumentException(op + ": key padding mask " + Shape.str(keyPadding.shape) + " does not match (B, Tk) of k " + Shape.str(k.shape));
            }
        }
    }

    /** A backward operand of q's dtype and device and the given shape. */
    private static void checkAttentionOperand(String op, String name, Tensor t, Tensor q, int[] want) {
        if (t == null) throw new IllegalArgumentException(op + ": " + name + " " + Shape.str(want) + " is null");
        q.sameDtype(op, t);
        q.sameDevice(op, t);
        if (!Arrays.equals(t.shape, want)) {
            throw new IllegalArgumentException(op + ": " + name + " shape " + Shape.str(t.shape) + " != " + Shape.str(want) + " for q " + Shape.str(q.shape));
        }
    }

    /** The key padding mask as the Backend takes it: I32 1 (padded) / 0, or null. */
    private static Tensor paddingMask(Tensor keyPadding) {
        return keyPadding == null ? null : keyPadding.ne(0).to(DType.I32);
    }

    // ---------------------------------------------------------------- MLIP ops (DESIGN.md 7.2, 7.3)

    /**
     * Results of {@link #patchSentenceOt}: the scores {@code (B1, B2)} and the final Sinkhorn scalings
     * {@code rowScalings (B1, B2, N)}, {@code colScalings (B1, B2, M)}: plan T^ij = diag(u_ij) K^ij diag(v_ij)
     * (K as in {@link Backend#patchSentenceOt}), what the backward rebuilds the plans from.
     */
    public record OtResult(Tensor scores, Tensor rowScalings, Tensor colScalings) {
    }

    /**
     * Patch-sentence OT scores {@code (B1, B2)} of images {@code patches (B1, N, D)} against reports
     * {@code sentences (B2, M, D)} (rows L2-normalised): S_ij = sum T^ij * cos over the entropic Sinkhorn plan
     * of cost 1 - cos between the valid patches and sentences, and the plans' final scalings u, v (B1*B2*(N+M)
     * numbers; the plans are B1*B2*N*M). Masks (B1, N) / (B2, M): nonzero = valid, or null for all valid. The CPU
     * computes it pair by pair, never holding B1 x B2 x N x M values.
     *
     * <pre>{@code
     * Tensor.OtResult ot = Tensor.patchSentenceOt(patches, null, sentences, sentenceMask, 0.1, 20);
     * Tensor s = ot.scores();                                                               // (B1, B2)
     * Tensor.OtGrads d = Tensor.patchSentenceOtScoresBackward(g, patches, null, sentences, sentenceMask,
     *         ot.rowScalings(), ot.colScalings(), 0.1);                                     // no Sinkhorn again
     * }</pre>
     */
    public static OtResult patchSentenceOt(Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask, double eps, int iterations) {
        return patchSentenceOt("patchSentenceOt", patches, patchMask, sentences, sentenceMask, eps, iterations);
    }

    private static OtResult patchSentenceOt(String op, Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask, double eps, int iterations) {
        checkOt(op, null, patches, patchMask, sentences, sentenceMask, null, null);
        Composite.checkSinkhorn(op, eps, iterations);
        Tensor[] r = patches.backend().patchSentenceOt(patches, otMask(patchMask, patches), sentences, otMask(sentenceMask, sentences), eps, iterations);
        return new OtResult(r[0], r[1], r[2]);
    }

    /**
     * The scores of {@link #patchSentenceOt} alone.
     *
     * <pre>{@code
     * Tensor s = Tensor.patchSentenceOtScores(patches, null, sentences, sentenceMask, 0.1, 20);   // (B1, B2)
     * }</pre>
     */
    public static Tensor patchSentenceOtScores(Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask, double eps, int iterations) {
        return patchSentenceOt("patchSentenceOtScores", patches, patchMask, sentences, sentenceMask, eps, iterations).scores();
    }

    /** Gradients of {@link #patchSentenceOtScores} (plan held constant): {@code dPatches (B1, N, D)}, {@code dSentences (B2, M, D)}. */
    public record OtGrads(Tensor dPatches, Tensor dSentences) {
    }

    /**
     * The backward of {@link #patchSentenceOt}'s scores for {@code gradScores (B1, B2)}, the plans held constant:
     * each plan is rebuilt from the forward's {@code rowScalings (B1, B2, N)} and {@code colScalings (B1, B2, M)}
     * and the same inputs, masks and eps (no Sinkhorn). See {@link #patchSentenceOt} for an example.
     */
    public static OtGrads patchSentenceOtScoresBackward(Tensor gradScores, Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask,
                                                        Tensor rowScalings, Tensor colScalings, double eps) {
        String op = "patchSentenceOtScoresBackward";
        checkOt(op, gradScores, patches, patchMask, sentences, sentenceMask, rowScalings, colScalings);
        Composite.checkEps(op, eps);
        Tensor[] r = patches.backend().patchSentenceOtScoresBackward(gradScores, patches, otMask(patchMask, patches), sentences,
                otMask(sentenceMask, sentences), rowScalings, colScalings, eps);
        return new OtGrads(r[0], r[1]);
    }

    /** Shapes, dtypes and devices of the OT op's operands; a backward ({@code grad} not null) also needs the scalings {@code u}, {@code v}. */
    private static void checkOt(String op, Tensor grad, Tensor p, Tensor pm, Tensor s, Tensor sm, Tensor u, Tensor v) {
        p.needFloating(op);
        p.sameDtype(op, s);
        p.sameDevice(op, s);
        if (p.ndim() != 3 || s.ndim() != 3 || p.shape[2] != s.shape[2] || p.shape[1] == 0 || s.shape[1] == 0) {
            throw new IllegalArgumentException(op + ": expects patches (B1, N, D) and sentences (B2, M, D) with N, M >= 1, got "
                    + Shape.str(p.shape) + " and " + Shape.str(s.shape));
        }
        for (Tensor[] t : new Tensor[][]{{pm, p}, {sm, s}}) {
            if (t[0] == null) continue;
            p.sameDevice(op, t[0]);
            if (t[0].ndim() != 2 || t[0].shape[0] != t[1].shape[0] || t[0].shape[1] != t[1].shape[1]) {
                throw new IllegalArgumentException(op + ": mask shape " + Shape.str(t[0].shape) + " does not match " + Shape.str(Arrays.copyOf(t[1].shape, 2))
                        + " of input " + Shape.str(t[1].shape));
            }
        }
        int b1 = p.shape[0], b2 = s.shape[0];
        if (grad != null) {
            p.sameDtype(op, grad);
            p.sameDevice(op, grad);
            if (grad.ndim() != 2 || grad.shape[0] != b1 || grad.shape[1] != b2) {
                throw new IllegalArgumentException(op + ": gradScores shape " + Shape.str(grad.shape) + " != (B1, B2) = [" + b1 + ", " + b2 + "]");
            }
            checkScalings(op, "rowScalings", "N", u, p, s, p.shape[1]);
            checkScalings(op, "colScalings", "M", v, p, s, s.shape[1]);
        }
    }

    /** A backward's scalings: the patches' dtype and device, shape (B1, B2, len). */
    private static void checkScalings(String op, String name, String dim, Tensor t, Tensor p, Tensor s, int len) {
        int[] want = {p.shape[0], s.shape[0], len};
        if (t == null) throw new IllegalArgumentException(op + ": " + name + " (B1, B2, " + dim + ") = " + Shape.str(want) + " is null; pass patchSentenceOt's");
        p.sameDtype(op, t);
        p.sameDevice(op, t);
        if (!Arrays.equals(t.shape, want)) {
            throw new IllegalArgumentException(op + ": " + name + " shape " + Shape.str(t.shape) + " != (B1, B2, " + dim + ") = " + Shape.str(want)
                    + " for patches " + Shape.str(p.shape) + " and sentences " + Shape.str(s.shape));
        }
    }

    /** A mask as 1/0 in x's dtype (the Backend contract), null kept. */
    private static Tensor otMask(Tensor mask, Tensor x) {
        return mask == null ? null : mask.ne(0).to(x.dtype());
    }

    /** Values and I32 indices of {@link #topkGather}. */
    public record TopkGather(Tensor values, Tensor indices) {
    }

    /**
     * For this {@code (B, N, D)} and {@code scores (B, N)}: per image the rows of the {@code k} highest scores
     * (NaN highest, ties to the lower index), in ascending patch order: values {@code (B, k, D)}, I32 indices
     * {@code (B, k)} (see {@link Backend#topkGather}).
     *
     * <pre>{@code
     * Tensor.TopkGather kept = patches.topkGather(scores, 72);   // (B, 72, D), (B, 72)
     * }</pre>
     */
    public TopkGather topkGather(Tensor scores, int k) {
        sameDevice("topkGather", scores);
        if (shape.length != 3 || scores.ndim() != 2 || scores.shape[0] != shape[0] || scores.shape[1] != shape[1]) {
            throw new IllegalArgumentException("topkGather: expects x (B, N, D) and scores (B, N), got " + Shape.str(shape) + " and " + Shape.str(scores.shape));
        }
        if (k < 0 || k > shape[1]) throw new IllegalArgumentException("topkGather: k=" + k + " out of range [0, " + shape[1] + "] for x of shape " + Shape.str(shape));
        Tensor[] r = backend().topkGather(this, scores, k);
        return new TopkGather(r[0], r[1]);
    }

    /** {@link #topkGather}'s backward: {@code grad (B, k, D)} scattered (added) to rows {@code indices (B, k)} of zeros {@code (B, n, D)}. */
    public static Tensor topkGatherBackward(Tensor grad, Tensor indices, int n) {
        needIndex("topkGatherBackward", indices);
        grad.sameDevice("topkGatherBackward", indices);
        if (grad.ndim() != 3 || indices.ndim() != 2 || indices.shape[0] != grad.shape[0] || indices.shape[1] != grad.shape[1] || n < 0) {
            throw new IllegalArgumentException("topkGatherBackward: expects grad (B, k, D), indices (B, k) and n >= 0, got " + Shape.str(grad.shape) + ", "
                    + Shape.str(indices.shape) + " and n=" + n);
        }
        return grad.backend().topkGatherBackward(grad, indices, n);
    }

    // ---------------------------------------------------------------- host access

    /** The single value of a one-element tensor. */
    public double item() {
        if (numel() != 1) throw new IllegalArgumentException("item: tensor of shape " + Shape.str(shape) + " has " + numel() + " elements, not 1");
        return toDoubleArray()[0];
    }

    /** Row-major copy as floats (converting). */
    public float[] toFloatArray() {
        Tensor t = to(DType.F32);
        return (float[]) t.backend().toHost(t);
    }

    /** Row-major copy as doubles (converting). */
    public double[] toDoubleArray() {
        Tensor t = to(DType.F64);
        return (double[]) t.backend().toHost(t);
    }

    /** Row-major copy as ints (floats truncate toward zero). */
    public int[] toIntArray() {
        Tensor t = to(DType.I32);
        return (int[]) t.backend().toHost(t);
    }

    /** One element by its coordinates. */
    public double get(int... index) {
        if (index.length != shape.length) throw new IllegalArgumentException("get: " + index.length + " indices for shape " + Shape.str(shape));
        Tensor t = this;
        for (int i = index.length - 1; i >= 0; i--) t = t.select(i, index[i]);
        return t.item();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("tensor(");
        double[] v = numel() <= 1000 ? toDoubleArray() : null;
        if (v == null) {
            sb.append("<").append(numel()).append(" elements>");
        } else {
            format(sb, v, 0, 0);
        }
        sb.append(", shape=").append(Shape.str(shape)).append(", dtype=").append(dtype());
        if (!device().isCpu()) sb.append(", device=").append(device());
        return sb.append(')').toString();
    }

    private int format(StringBuilder sb, double[] v, int dim, int pos) {
        if (dim == shape.length) {
            double x = v[pos];
            sb.append(dtype() == DType.I32 ? Integer.toString((int) x) : String.format("%.4g", x));
            return pos + 1;
        }
        sb.append('[');
        for (int i = 0; i < shape[dim]; i++) {
            if (i > 0) sb.append(", ");
            pos = format(sb, v, dim + 1, pos);
        }
        sb.append(']');
        return pos;
    }
}
