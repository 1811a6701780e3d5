package mlip.tensor.cpu;

import mlip.tensor.Backend;
import mlip.tensor.DType;
import mlip.tensor.Storage;

/** A Java array: exactly one of {@link #f}, {@link #d}, {@link #i} is non-null, by dtype. */
public final class CpuStorage implements Storage {
    public final float[] f;
    public final double[] d;
    public final int[] i;
    private final DType dtype;
    private final Backend backend;

    CpuStorage(Backend backend, DType dtype, int size) {
        this.backend = backend;
        this.dtype = dtype;
        this.f = dtype == DType.F32 ? new float[size] : null;
        this.d = dtype == DType.F64 ? new double[size] : null;
        this.i = dtype == DType.I32 ? new int[size] : null;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int size() {
        return switch (dtype) {
            case F32 -> f.length;
            case F64 -> d.length;
            case I32 -> i.length;
        };
    }

    @Override
    public Backend backend() {
        return backend;
    }

    /** Element {@code k} as a double (the generic, non-hot path for F64 and I32). */
    double get(int k) {
        return switch (dtype) {
            case F32 -> f[k];
            case F64 -> d[k];
            case I32 -> i[k];
        };
    }

    /** Stores {@code v} at {@code k}, truncating toward zero for I32. */
    void set(int k, double v) {
        switch (dtype) {
            case F32 -> f[k] = (float) v;
            case F64 -> d[k] = v;
            case I32 -> i[k] = (int) v;
        }
    }
}
