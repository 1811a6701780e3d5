package mlip.tensor.cpu;

import mlip.tensor.Tensor;

/**
 * Walks one shape over several operands (each with its own strides and offset) as a sequence of
 * rows: the innermost dim after merging every pair of dims that is contiguous for all operands and
 * dropping size-1 dims. A contiguous tensor becomes a single long row, a transposed one keeps two
 * dims, and the kernels see {@code (offsets, length)} with constant inner strides.
 *
 * <p>Rows are split over the pool in chunks of a fixed number of elements, so the work split never
 * depends on the thread count (elementwise results do not anyway).
 */
final class StridedLoop {

    /** Processes one row: {@code off[k]} is operand k's offset of the row's first element. */
    @FunctionalInterface
    interface Row {
        void run(int[] off, int len);
    }

    /** Elements per parallel task. */
    static final int GRAIN = 1 << 15;

    final int nOps;
    final int inner;          // length of each row
    final int[] innerStride;  // per operand
    final int rows;
    private final int[] outerShape;     // (ndimOuter)
    private final int[][] outerStrides; // [op][ndimOuter]
    private final int[] base;           // per operand

    StridedLoop(int[] shape, Tensor... ops) {
        nOps = ops.length;
        int nd = shape.length;
        int[][] st = new int[nOps][];
        base = new int[nOps];
        for (int k = 0; k < nOps; k++) {
            st[k] = ops[k].strides();
            base[k] = ops[k].offset();
        }
        // keep dims of size != 1, then merge right-to-left where every operand is contiguous across the pair
        int[] dims = new int[nd];
        int[][] ds = new int[nOps][nd];
        int m = 0;
        boolean empty = false;
        for (int i = 0; i < nd; i++) {
            if (shape[i] == 0) empty = true;
            if (shape[i] == 1) continue;
            if (m > 0) {
                boolean merge = true;
                for (int k = 0; k < nOps && merge; k++) merge = ds[k][m - 1] == st[k][i] * shape[i];
                if (merge) {
                    dims[m - 1] *= shape[i];
                    for (int k = 0; k < nOps; k++) ds[k][m - 1] = st[k][i];
                    continue;
                }
            }
            dims[m] = shape[i];
            for (int k = 0; k < nOps; k++) ds[k][m] = st[k][i];
            m++;
        }
        innerStride = new int[nOps];
        if (empty) {
            inner = 0;
            rows = 0;
            outerShape = new int[0];
            outerStrides = new int[nOps][0];
            return;
        }
        if (m == 0) { // a single element
            inner = 1;
            rows = 1;
            outerShape = new int[0];
            outerStrides = new int[nOps][0];
            return;
        }
        inner = dims[m - 1];
        for (int k = 0; k < nOps; k++) innerStride[k] = ds[k][m - 1];
        outerShape = java.util.Arrays.copyOf(dims, m - 1);
        outerStrides = new int[nOps][];
        long r = 1;
        for (int k = 0; k < nOps; k++) outerStrides[k] = java.util.Arrays.copyOf(ds[k], m - 1);
        for (int d : outerShape) r *= d;
        rows = (int) r;
    }

    /** Offsets of row {@code r} for every operand. */
    void rowOffsets(int r, int[] off) {
        for (int k = 0; k < nOps; k++) off[k] = base[k];
        for (int d = outerShape.length - 1; d >= 0; d--) {
            int c = r % outerShape[d];
            r /= outerShape[d];
            for (int k = 0; k < nOps; k++) off[k] += c * outerStrides[k][d];
        }
    }

    /** Runs {@code body} on every row (long rows cut into segments), in parallel chunks of about {@link #GRAIN} elements. */
    void forEachRow(Parallel pool, Row body) {
        if (rows == 0 || inner == 0) return;
        if (inner > GRAIN) {
            int segs = (inner + GRAIN - 1) / GRAIN;
            pool.forTasks(rows * segs, t -> {
                int[] off = new int[nOps];
                rowOffsets(t / segs, off);
                int start = (t % segs) * GRAIN;
                for (int k = 0; k < nOps; k++) off[k] += start * innerStride[k];
                body.run(off, Math.min(GRAIN, inner - start));
            });
            return;
        }
        int rowsPerTask = Math.max(1, GRAIN / inner);
        pool.forRange(rows, rowsPerTask, (start, end) -> {
            int[] off = new int[nOps];
            for (int r = start; r < end; r++) {
                rowOffsets(r, off);
                body.run(off, inner);
            }
        });
    }
}
