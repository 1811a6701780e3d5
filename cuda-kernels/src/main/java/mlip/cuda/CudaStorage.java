package mlip.cuda;

import java.lang.ref.Cleaner;
import jcuda.driver.CUdeviceptr;
import mlip.tensor.Backend;
import mlip.tensor.DType;
import mlip.tensor.Storage;

/**
 * Device memory for {@code size} elements of one dtype. Freed by a {@link Cleaner} when the storage
 * becomes unreachable (tensors share storages, so no tensor can free it alone).
 */
public final class CudaStorage implements Storage {
    private static final Cleaner CLEANER = Cleaner.create();

    private final CudaBackend backend;
    private final DType dtype;
    private final int size;
    private final CUdeviceptr ptr;

    CudaStorage(CudaBackend backend, DType dtype, int size) {
        this.backend = backend;
        this.dtype = dtype;
        this.size = size;
        JCudaDevice dev = backend.jcuda();
        this.ptr = dev.alloc((long) size * dtype.bytes());
        CUdeviceptr p = ptr; // the cleaning action must not capture this storage
        CLEANER.register(this, () -> dev.free(p));
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    /** The device address of element {@code offset}. */
    public CUdeviceptr at(int offset) {
        return offset == 0 ? ptr : ptr.withByteOffset((long) offset * dtype.bytes());
    }
}
