package mlip.tensor.cpu;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerArray;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM on the CPU: {@code C = alpha * A·B + beta * C}, row-major C, any strides for A and B
 * (transposed and strided views need no copy: packing absorbs them).
 *
 * <h2>Blocking (Goto/BLIS, adapted to row-major C and the Vector API)</h2>
 * <pre>
 *   micro-tile  MR x NR = 6 x 48: 6 rows of C, 3 vectors of 16 lanes (AVX-512). 18 FloatVector accumulators
 *               in local variables (an array of them gets boxed: 90 -> 3 GFLOP/s); per step p: 3 vector loads
 *               of B, 6 broadcasts of A, 18 fma. The kernel writes its tile to a thread-local 6 x 48 buffer
 *               and storeTile applies alpha/beta to C (or to the valid corner of an edge tile).
 *   K blocks    kc <= KC = 512, balanced (k = 768 gives 384 + 384, not 512 + 256); beta is applied with the
 *               first block, later blocks add.
 *   B           packed once per call (shared by all tasks, and by all entries of a batch with one B), for all of
 *               K, in panels of NR columns: panel (K block q, column panel jp) holds B(p, jp*NR ..) for its kc
 *               rows, NR contiguous floats per p, zero past n. A panel (kc x 48 x 4 B = 96 KB) sits in L2 (1 MB)
 *               while the kernel walks down the task's rows; L1 is 48 KB.
 *   A           read in place when its rows are contiguous (aCs == 1: plain A, and A·B^T): the kernel broadcasts
 *               from 6 row streams. Other layouts (A^T, strided views) are packed per task and K block into
 *               6-row panels, 6 contiguous floats per p. A partial last panel is packed and zero-padded.
 *   tasks       an m-block of <= MC = 96 rows (the count rounded up to a multiple of the threads) x all of N,
 *               looping over every K block itself; with fewer than 4 m-blocks per thread N is split as well.
 * </pre>
 *
 * <h2>Threads</h2>
 * One {@link Parallel#forTasks} per call and no other barrier. B panels are packed lazily by the first task
 * that needs them (a CAS per panel; a task that finds a panel being packed waits for that one panel), and
 * tasks running side by side start on different panels, so both cores pack. Waking a parked pool thread
 * costs 50-250 us on this 2-vCPU VM; a first version with two forTasks per K block (pack B, then compute)
 * lost 20-40% at n = 1024 to those wake-ups. Products under {@link #PARALLEL_MIN_FLOPS} stay on the caller.
 *
 * <h2>Determinism</h2>
 * K is never split across tasks. Each C element comes from one kernel call per K block (an fma chain over p in
 * order, starting from zero) followed by storeTile, and kc depends only on k; the tile an element falls in, the
 * task, the thread and the order of tiles change nothing. So results are bit-identical for any thread count,
 * and batched entries equal the rows of one stacked product. The scalar path ({@code -Dmlip.vectorBitSize=0},
 * 6 x 16 tiles, {@link Math#fma}) and the 128/256-bit species give the same bits as well (checked).
 *
 * <h2>Measured (AMD EPYC Zen 5, 2 vCPUs, AVX-512, JDK 25; OpenBLAS 0.3.21 runs its Haswell AVX2 kernels)</h2>
 * <pre>
 *   peak: 217 GFLOP/s per core (2 x 512-bit fma per cycle); the 6x48 kernel alone, panels in L1: 185-210.
 *   mlip bench gemm, 2 threads, quiet machine (GFLOP/s, ours vs OpenBLAS):
 *     256: 186 vs 152   512: 302 vs 184   1024: 303 vs 196   2048: 299 vs 205
 *     4640x192x576: 343 vs 176   4640x192x768: 333 vs 166   4640x768x192: 317 vs 168      (M x K x N)
 *   transposed operands, 2 threads: 1024 A^T·B 260, A·B^T 248; 4640x768x192 A^T·B 215 (A^T is packed).
 *   micro-kernel shapes, 1 thread, whole sgemm (earlier driver, same packing) at 1024 / 4640x768x192 /
 *     4640x192x576 (+-10% noise):
 *     6x2 168/132/175  8x2 154/130/168  12x2 150/117/157  14x2 156/126/176  4x3 157/123/179
 *     6x3 171/129/177  7x3 132/122/178  8x3 134/109/152  4x4 162/122/167  5x4 167/134/172
 *     -> 6x3: among the best, 18 of 32 zmm registers, and 48 divides the model widths 192, 576, 768.
 *     Narrower species (AVX2, 16 registers) use 6 x 2 vectors.
 *   KC, 2 threads (1024 / 2048 / 4640x768x192): 256: 295/253/316  384: 302/264/333  512: 318/285/324
 *     768: 308/294/342 -> 512 (fewer passes over C, panels still in L2). MC 48..192: within noise -> 96.
 *   storeTile (C update outside the kernel) costs 5-12% (1 thread, skipping it: 1024 158 -> 169). A kernel that
 *     updated C itself (3 beta modes x 18 accumulators) hit C2's NodeCountInliningCutoff: its Vector API
 *     calls were not inlined and it ran 3-5x slower, depending on which profile C2 saw first.
 *   A read in place vs packed, 1 thread: 4640x768x192 165 vs 143; squares equal.
 *   PARALLEL_MIN_FLOPS = 2^23 (serial vs 2 threads): 128^3 118 vs 90, 160^3 141 vs 135, 200^3 117 vs 133.
 * </pre>
 *
 * <p>Memory: each calling thread keeps its packed-B buffer (k x n rounded up to 48 columns) for reuse, and every
 * pool thread a packed-A block (<= 96 x 512 floats); nothing is allocated per tile or per element.
 */
public final class Sgemm {

    private static final VectorSpecies<Float> S = Simd.F32;
    /** Lanes per vector (1 on the scalar path). */
    private static final int L = Simd.ENABLED ? S.length() : 1;
    /** Micro-tile rows. */
    static final int MR = 6;
    /**
     * Micro-tile width in vectors: 3 with 16 lanes (18 accumulators + 3 B + 1 A of the 32 zmm registers);
     * 2 with narrower species (a 16-register AVX2 machine would spill 6 x 3).
     */
    private static final int NV = L >= 16 ? 3 : 2;
    /** Micro-tile columns (the scalar path uses 16). */
    static final int NR = Simd.ENABLED ? NV * L : 16;
    /** K block. */
    static final int KC = 512;
    /** Target rows per task (m-block). */
    static final int MC = 96;
    /** With fewer m-blocks than this many per thread, tasks also split N (wake-up latency, load balance). */
    static final int MIN_TASKS_PER_THREAD = 4;
    /** Below this many flops (2*m*n*k) a product runs on the calling thread: a pool wake-up costs more. */
    static final long PARALLEL_MIN_FLOPS = 1L << 23;

    private Sgemm() {
    }

    /** Per-thread scratch: packed A block, one micro-tile, packed B of a call that this thread drives. */
    private static final class Scratch {
        float[] a = new float[0];
        float[] b = new float[0];
        final float[] tile = new float[MR * NR];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    // ------------------------------------------------------------------------------------------------------------
    // API

    /**
     * C = alpha * A·B + beta * C. A(i,p) = a[aOff + i*aRs + p*aCs] (m x k); B(p,j) = b[bOff + p*bRs + j*bCs] (k x n);
     * C(i,j) = c[cOff + i*ldc + j]. beta == 0 overwrites C (NaN/garbage in C ignored); alpha == 0 or k == 0
     * gives C = beta * C without reading A or B (BLAS convention). C must not overlap A or B.
     *
     * @param pool the threads to use; {@code null} runs on the calling thread
     * @throws IllegalArgumentException if a size is negative, {@code ldc < n}, or an operand reaches outside its array
     */
    public static void sgemm(Parallel pool, int m, int n, int k, float alpha,
                             float[] a, int aOff, int aRs, int aCs,
                             float[] b, int bOff, int bRs, int bCs,
                             float beta, float[] c, int cOff, int ldc) {
        checkArgs("sgemm", -1, m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc);
        gemm(pool, 1, m, n, k, alpha, a, new int[] {aOff}, aRs, aCs, b, bOff, bRs, bCs, beta, c, new int[] {cOff}, ldc);
    }

    /**
     * The same for {@code batch} independent products; offsets per batch entry (broadcast batches may repeat
     * offsets of a or b; the C blocks must not overlap). When every entry has the same B (a linear layer on a
     * batch of sequences), B is packed once and the tiles of all entries are spread over the pool together.
     * Otherwise large batches are split over the pool entry by entry, small ones run each entry on the whole pool.
     */
    public static void sgemmBatched(Parallel pool, int batch, int m, int n, int k, float alpha,
                                    float[] a, int[] aOffs, int aRs, int aCs,
                                    float[] b, int[] bOffs, int bRs, int bCs,
                                    float beta, float[] c, int[] cOffs, int ldc) {
        if (batch < 0) throw new IllegalArgumentException("sgemmBatched: negative batch " + batch);
        if (aOffs.length < batch || bOffs.length < batch || cOffs.length < batch) {
            throw new IllegalArgumentException("sgemmBatched: batch=" + batch + " but offsets have lengths a="
                    + aOffs.length + " b=" + bOffs.length + " c=" + cOffs.length);
        }
        boolean sameB = true;
        for (int e = 0; e < batch; e++) {
            checkArgs("sgemmBatched", e, m, n, k, a, aOffs[e], aRs, aCs, b, bOffs[e], bRs, bCs, c, cOffs[e], ldc);
            sameB &= bOffs[e] == bOffs[0];
        }
        if (batch == 0) return;
        int threads = pool == null ? 1 : pool.threads();
        double flops = 2.0 * m * n * k;
        if (sameB || batch == 1) {
            gemm(pool, batch, m, n, k, alpha, a, aOffs, aRs, aCs, b, bOffs[0], bRs, bCs, beta, c, cOffs, ldc);
        } else if (threads > 1 && (batch >= 4 * threads || flops < PARALLEL_MIN_FLOPS)) {
            // Split over entries; each entry runs on one thread (same bits as any other split).
            pool.forTasks(batch, e -> gemm(null, 1, m, n, k, alpha, a, new int[] {aOffs[e]}, aRs, aCs,
                    b, bOffs[e], bRs, bCs, beta, c, new int[] {cOffs[e]}, ldc));
        } else {
            for (int e = 0; e < batch; e++) {
                gemm(pool, 1, m, n, k, alpha, a, new int[] {aOffs[e]}, aRs, aCs, b, bOffs[e], bRs, bCs,
                        beta, c, new int[] {cOffs[e]}, ldc);
            }
        }
    }

    /**
     * Plain triple loop accumulating in double: the reference {@link #sgemm} is tested against. Same contract
     * (beta == 0 ignores C; alpha == 0 or k == 0 does not read A or B).
     */
    public static void reference(int m, int n, int k, float alpha,
                                 float[] a, int aOff, int aRs, int aCs,
                                 float[] b, int bOff, int bRs, int bCs,
                                 float beta, float[] c, int cOff, int ldc) {
        checkArgs("Sgemm.reference", -1, m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                if (alpha != 0f) {
                    for (int p = 0; p < k; p++) {
                        s += (double) a[aOff + i * aRs + p * aCs] * b[bOff + p * bRs + j * bCs];
                    }
                }
                int ci = cOff + i * ldc + j;
                double old = beta == 0f ? 0.0 : (double) beta * c[ci];
                c[ci] = (float) ((double) alpha * s + old);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Driver

    /** {@code entries} products sharing B (one packing of it): A and C offsets per entry. Arguments are checked. */
    private static void gemm(Parallel pool, int entries, int m, int n, int k, float alpha,
                             float[] a, int[] aOffs, int aRs, int aCs,
                             float[] b, int bOff, int bRs, int bCs,
                             float beta, float[] c, int[] cOffs, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f) {
            for (int e = 0; e < entries; e++) scaleC(m, n, beta, c, cOffs[e], ldc);
            return;
        }
        int threads = pool == null || 2.0 * m * n * k * entries < PARALLEL_MIN_FLOPS ? 1 : pool.threads();
        Job job = new Job(threads, entries, m, n, k, alpha, a, aOffs, aRs, aCs, b, bOff, bRs, bCs, beta, c, cOffs, ldc);
        int tasks = job.tasks();
        if (threads == 1 || tasks == 1) {
            for (int t = 0; t < tasks; t++) job.run(t);
        } else {
            pool.forTasks(tasks, job::run);
        }
    }

    /** C = beta * C (beta == 0 writes zeros, ignoring NaN in C). */
    private static void scaleC(int m, int n, float beta, float[] c, int cOff, int ldc) {
        if (beta == 1f) return;
        for (int i = 0; i < m; i++) {
            int row = cOff + i * ldc;
            if (beta == 0f) {
                Arrays.fill(c, row, row + n, 0f);
            } else {
                for (int j = 0; j < n; j++) c[row + j] *= beta;
            }
        }
    }

    /**
     * One product (or several sharing B), cut into tasks: entry x m-block x n-range. {@link #run} executes one
     * task: all K blocks of its C block, packing the B panels it needs unless another task already did.
     */
    private static final class Job {
        final int m, n, k;
        final float alpha, beta;
        final float[] a, b, c;
        final int entries;          // products sharing B
        final int[] aOffs, cOffs;   // per entry
        final int aRs, aCs, bOff, bRs, bCs, ldc;
        final boolean aDirect;      // A rows contiguous: the kernel reads A in place
        final int kcE, nkb;         // balanced K block and their count
        final int nPan;             // NR-column panels of B
        final int mcRows, mBlocks;  // rows per m-block (multiple of MR), number of m-blocks per entry
        final int ncPan, nBlocks;   // panels per n-range, number of n-ranges
        final int threads;
        final float[] bp;           // packed B, (q, jp) at q*kcE*nPan*NR + jp*kb*NR
        final AtomicIntegerArray state; // per (q, jp): 0 unpacked, 1 being packed, 2 packed, 3 failed

        Job(int threads, int entries, int m, int n, int k, float alpha, float[] a, int[] aOffs, int aRs, int aCs,
            float[] b, int bOff, int bRs, int bCs, float beta, float[] c, int[] cOffs, int ldc) {
            this.threads = threads;
            this.entries = entries;
            this.m = m; this.n = n; this.k = k; this.alpha = alpha; this.beta = beta;
            this.a = a; this.aOffs = aOffs; this.aRs = aRs; this.aCs = aCs;
            this.b = b; this.bOff = bOff; this.bRs = bRs; this.bCs = bCs;
            this.c = c; this.cOffs = cOffs; this.ldc = ldc;
            this.aDirect = aCs == 1;
            this.nkb = ceilDiv(k, KC);
            this.kcE = ceilDiv(k, nkb);
            this.nPan = ceilDiv(n, NR);
            int mPan = ceilDiv(m, MR);
            int mb = ceilDiv(mPan, MC / MR);
            // One product: a multiple of the thread count of equal m-blocks, so no thread idles at the end.
            if (threads > 1 && entries == 1) mb = Math.min(mPan, ceilDiv(mb, threads) * threads);
            int mcPan = ceilDiv(mPan, mb);
            this.mcRows = mcPan * MR;
            this.mBlocks = ceilDiv(mPan, mcPan);
            // Too few row blocks to feed every thread MIN_TASKS_PER_THREAD times: split N as well.
            int nb = 1;
            long rowTasks = (long) entries * mBlocks;
            if (threads > 1 && rowTasks < (long) MIN_TASKS_PER_THREAD * threads) {
                nb = (int) Math.min(nPan, ceilDiv(MIN_TASKS_PER_THREAD * threads, (int) rowTasks));
            }
            this.ncPan = ceilDiv(nPan, nb);
            this.nBlocks = ceilDiv(nPan, ncPan);
            if (rowTasks * nBlocks > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("sgemm: too many tiles (batch=" + entries + ", m=" + m + ", n=" + n + ")");
            }
            long packed = (long) k * nPan * NR;
            if (packed > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("sgemm: B too large to pack (k=" + k + ", n=" + n + ")");
            }
            Scratch s = SCRATCH.get();
            if (s.b.length < packed) s.b = new float[(int) packed];
            this.bp = s.b;
            this.state = new AtomicIntegerArray(nkb * nPan);
        }

        int tasks() {
            return entries * mBlocks * nBlocks;
        }

        void run(int t) {
            int perEntry = mBlocks * nBlocks;
            int e = t / perEntry, r = t % perEntry;
            int aOff = aOffs[e], cOff = cOffs[e];
            int i0 = (r / nBlocks) * mcRows, i1 = Math.min(m, i0 + mcRows);
            int jp0 = (r % nBlocks) * ncPan, jp1 = Math.min(nPan, jp0 + ncPan);
            int span = jp1 - jp0;
            // Tasks running side by side start on different panels, so they pack different panels at first.
            int rot = (int) ((long) (t % threads) * span / threads);
            Scratch s = SCRATCH.get();
            float[] tile = s.tile;
            int rowsPadded = ceilDiv(i1 - i0, MR) * MR;
            int fullEnd = i0 + (i1 - i0) / MR * MR;       // rows [i0, fullEnd) form whole micro-panels
            for (int q = 0; q < nkb; q++) {
                int p0 = q * kcE, kb = Math.min(kcE, k - p0);
                int mode = q > 0 || beta == 1f ? MODE_ADD : beta == 0f ? MODE_STORE : MODE_BETA;
                float[] ap;
                if (aDirect) {
                    // Only a partial last micro-panel needs packing (zero-padded to MR rows).
                    ap = ensure(s, MR * kb);
                    if (fullEnd < i1) packA(a, aOff, aRs, aCs, fullEnd, i1 - fullEnd, p0, kb, ap);
                } else {
                    ap = ensure(s, rowsPadded * kb);
                    packA(a, aOff, aRs, aCs, i0, i1 - i0, p0, kb, ap);
                }
                int bBlock = p0 * nPan * NR;
                for (int x = 0; x < span; x++) {
                    int jp = jp0 + (x + rot) % span;
                    ensurePacked(q, jp, p0, kb);
                    int bi = bBlock + jp * kb * NR;
                    int j = jp * NR, cols = Math.min(NR, n - j);
                    for (int i = i0; i < i1; i += MR) {
                        int rows = Math.min(MR, i1 - i);
                        if (aDirect) {
                            if (rows == MR) kernel(kb, a, aOff + i * aRs + p0, aRs, 1, bp, bi, tile);
                            else kernel(kb, ap, 0, 1, MR, bp, bi, tile);
                        } else {
                            kernel(kb, ap, (i - i0) * kb, 1, MR, bp, bi, tile);
                        }
                        storeTile(tile, c, cOff + i * ldc + j, ldc, rows, cols, alpha, beta, mode);
                    }
                }
            }
        }

        /** Packs B panel (q, jp) unless done; if another task is packing it, waits for that one panel. */
        private void ensurePacked(int q, int jp, int p0, int kb) {
            int idx = q * nPan + jp;
            int st = state.get(idx);
            if (st == 2) return;
            if (st == 0 && state.compareAndSet(idx, 0, 1)) {
                try {
                    packB(b, bOff, bRs, bCs, p0, kb, jp * NR, n, bp, p0 * nPan * NR + jp * kb * NR);
                } catch (Throwable e) {
                    state.set(idx, 3);
                    throw e;
                }
                state.set(idx, 2);
                return;
            }
            int spins = 0;
            while ((st = state.get(idx)) != 2) {
                if (st == 3) throw new IllegalStateException("sgemm: packing a B panel failed in another task");
                if (++spins < 1000) Thread.onSpinWait();
                else Thread.yield();
            }
        }
    }

    private static float[] ensure(Scratch s, int size) {
        if (s.a.length < size) s.a = new float[size];
        return s.a;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Packing

    /**
     * Packs rows [i0, i0+rows) x columns [p0, p0+kb) of A into MR-row panels: panel r at dst[r*kb*MR ..],
     * element (p, i) at p*MR + i; rows past the end are zero.
     */
    private static void packA(float[] a, int aOff, int aRs, int aCs, int i0, int rows, int p0, int kb, float[] dst) {
        int full = rows / MR * MR;
        if (aRs == 1 && full > 0) {
            // Transposed A: column p of the block is contiguous; read it once, deal it out to the panels.
            for (int p = 0; p < kb; p++) {
                int s = aOff + i0 + (p0 + p) * aCs;
                for (int ip = 0, d = p * MR; ip < full; ip += MR, d += kb * MR) {
                    for (int i = 0; i < MR; i++) dst[d + i] = a[s + ip + i];
                }
            }
        } else if (aCs == 1 && full > 0) {
            for (int ip = 0, base = 0; ip < full; ip += MR, base += kb * MR) {
                for (int i = 0; i < MR; i++) {
                    int s = aOff + (i0 + ip + i) * aRs + p0;
                    for (int p = 0, d = base + i; p < kb; p++, d += MR) dst[d] = a[s + p];
                }
            }
        } else {
            full = 0;
        }
        for (int ip = full, base = full * kb; ip < rows; ip += MR, base += kb * MR) {
            int h = Math.min(MR, rows - ip);
            for (int p = 0; p < kb; p++) {
                int s = aOff + (i0 + ip) * aRs + (p0 + p) * aCs, d = base + p * MR;
                for (int i = 0; i < h; i++) dst[d + i] = a[s + i * aRs];
                for (int i = h; i < MR; i++) dst[d + i] = 0f;
            }
        }
    }

    /**
     * Packs rows [p0, p0+kb) x columns [j, j+NR) of B (n columns in all) at dst[base ..]: element (p, q) at
     * p*NR + q; columns past n are zero.
     */
    private static void packB(float[] b, int bOff, int bRs, int bCs, int p0, int kb, int j, int n, float[] dst, int base) {
        int cols = Math.min(NR, n - j);
        int src = bOff + p0 * bRs + j * bCs;
        if (bCs == 1 && cols == NR && Simd.ENABLED) {
            for (int p = 0; p < kb; p++) {
                int s = src + p * bRs, d = base + p * NR;
                for (int v = 0; v < NR; v += L) FloatVector.fromArray(S, b, s + v).intoArray(dst, d + v);
            }
        } else if (bCs == 1) {
            for (int p = 0; p < kb; p++) {
                int s = src + p * bRs, d = base + p * NR;
                System.arraycopy(b, s, dst, d, cols);
                Arrays.fill(dst, d + cols, d + NR, 0f);
            }
        } else {
            for (int q = 0; q < cols; q++) {
                int s = src + q * bCs;
                for (int p = 0, d = base + q; p < kb; p++, d += NR) dst[d] = b[s + p * bRs];
            }
            if (cols < NR) {
                for (int p = 0; p < kb; p++) Arrays.fill(dst, base + p * NR + cols, base + p * NR + NR, 0f);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Writing C

    private static final int MODE_STORE = 0; // C = alpha*T           (first K block, beta == 0)
    private static final int MODE_BETA = 1;  // C = alpha*T + beta*C  (first K block)
    private static final int MODE_ADD = 2;   // C = alpha*T + C       (later K blocks, or beta == 1)

    /** Applies micro-tile T (MR x NR, row stride NR) to the rows x cols corner of C at ci. */
    private static void storeTile(float[] t, float[] c, int ci, int ldc, int rows, int cols,
                                  float alpha, float beta, int mode) {
        if (cols == NR && Simd.ENABLED) {
            for (int r = 0; r < rows; r++) {
                int cr = ci + r * ldc;
                for (int v = 0; v < NR; v += L) {
                    FloatVector x = FloatVector.fromArray(S, t, r * NR + v);
                    if (alpha != 1f) x = x.mul(alpha);
                    if (mode == MODE_ADD) x = x.add(FloatVector.fromArray(S, c, cr + v));
                    else if (mode == MODE_BETA) x = x.add(FloatVector.fromArray(S, c, cr + v).mul(beta));
                    x.intoArray(c, cr + v);
                }
            }
        } else {
            for (int r = 0; r < rows; r++) {
                int cr = ci + r * ldc;
                for (int q = 0; q < cols; q++) {
                    float x = t[r * NR + q];
                    if (alpha != 1f) x *= alpha;
                    if (mode == MODE_ADD) x += c[cr + q];
                    else if (mode == MODE_BETA) x += c[cr + q] * beta;
                    c[cr + q] = x;
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Micro-kernels. A(r, p) = a[ai + r*ars + p*acs] (packed: ars = 1, acs = MR; in place: ars = row stride,
    // acs = 1); B panel at b[bi ..], NR floats per p. Accumulators are locals: never put FloatVectors in an array.

    private static void kernel(int kc, float[] a, int ai, int ars, int acs, float[] b, int bi, float[] t) {
        if (!Simd.ENABLED) kernelScalar(kc, a, ai, ars, acs, b, bi, t);
        else if (NV == 3) kernel6x3(kc, a, ai, ars, acs, b, bi, t);
        else kernel6x2(kc, a, ai, ars, acs, b, bi, t);
    }

    /** The scalar path: same tile, same order, {@link Math#fma} like the vector kernels. */
    private static void kernelScalar(int kc, float[] a, int ai, int ars, int acs, float[] b, int bi, float[] t) {
        Arrays.fill(t, 0, MR * NR, 0f);
        for (int p = 0; p < kc; p++) {
            for (int r = 0; r < MR; r++) {
                float av = a[ai + r * ars + p * acs];
                int tr = r * NR;
                for (int q = 0; q < NR; q++) t[tr + q] = Math.fma(av, b[bi + q], t[tr + q]);
            }
            bi += NR;
        }
    }

    /** 6 x 3 vectors: T = A-panel · B-panel over {@code kc} steps (fresh accumulators), written to {@code t} (6 rows of NR). */
    private static void kernel6x3(int kc, float[] a, int ai, int ars, int acs, float[] b, int bi, float[] t) {
        FloatVector c00 = FloatVector.zero(S); FloatVector c01 = FloatVector.zero(S); FloatVector c02 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S); FloatVector c11 = FloatVector.zero(S); FloatVector c12 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S); FloatVector c21 = FloatVector.zero(S); FloatVector c22 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S); FloatVector c31 = FloatVector.zero(S); FloatVector c32 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S); FloatVector c41 = FloatVector.zero(S); FloatVector c42 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S); FloatVector c51 = FloatVector.zero(S); FloatVector c52 = FloatVector.zero(S);
        int o0 = ai + 0 * ars; int o1 = ai + 1 * ars; int o2 = ai + 2 * ars; int o3 = ai + 3 * ars; int o4 = ai + 4 * ars; int o5 = ai + 5 * ars;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + 1 * L);
            FloatVector b2 = FloatVector.fromArray(S, b, bi + 2 * L);
            FloatVector a0 = FloatVector.broadcast(S, a[o0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01); c02 = a0.fma(b2, c02);
            FloatVector a1 = FloatVector.broadcast(S, a[o1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11); c12 = a1.fma(b2, c12);
            FloatVector a2 = FloatVector.broadcast(S, a[o2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21); c22 = a2.fma(b2, c22);
            FloatVector a3 = FloatVector.broadcast(S, a[o3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31); c32 = a3.fma(b2, c32);
            FloatVector a4 = FloatVector.broadcast(S, a[o4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41); c42 = a4.fma(b2, c42);
            FloatVector a5 = FloatVector.broadcast(S, a[o5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51); c52 = a5.fma(b2, c52);
            o0 += acs; o1 += acs; o2 += acs; o3 += acs; o4 += acs; o5 += acs;
            bi += 3 * L;
        }
        c00.intoArray(t, 0 * L); c01.intoArray(t, 1 * L); c02.intoArray(t, 2 * L);
        c10.intoArray(t, 3 * L); c11.intoArray(t, 4 * L); c12.intoArray(t, 5 * L);
        c20.intoArray(t, 6 * L); c21.intoArray(t, 7 * L); c22.intoArray(t, 8 * L);
        c30.intoArray(t, 9 * L); c31.intoArray(t, 10 * L); c32.intoArray(t, 11 * L);
        c40.intoArray(t, 12 * L); c41.intoArray(t, 13 * L); c42.intoArray(t, 14 * L);
        c50.intoArray(t, 15 * L); c51.intoArray(t, 16 * L); c52.intoArray(t, 17 * L);
    }

    /** 6 x 2 vectors: T = A-panel · B-panel over {@code kc} steps (fresh accumulators), written to {@code t} (6 rows of NR). */
    private static void kernel6x2(int kc, float[] a, int ai, int ars, int acs, float[] b, int bi, float[] t) {
        FloatVector c00 = FloatVector.zero(S); FloatVector c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S); FloatVector c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S); FloatVector c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S); FloatVector c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S); FloatVector c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S); FloatVector c51 = FloatVector.zero(S);
        int o0 = ai + 0 * ars; int o1 = ai + 1 * ars; int o2 = ai + 2 * ars; int o3 = ai + 3 * ars; int o4 = ai + 4 * ars; int o5 = ai + 5 * ars;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + 1 * L);
            FloatVector a0 = FloatVector.broadcast(S, a[o0]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[o1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[o2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[o3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, a[o4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, a[o5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            o0 += acs; o1 += acs; o2 += acs; o3 += acs; o4 += acs; o5 += acs;
            bi += 2 * L;
        }
        c00.intoArray(t, 0 * L); c01.intoArray(t, 1 * L);
        c10.intoArray(t, 2 * L); c11.intoArray(t, 3 * L);
        c20.intoArray(t, 4 * L); c21.intoArray(t, 5 * L);
        c30.intoArray(t, 6 * L); c31.intoArray(t, 7 * L);
        c40.intoArray(t, 8 * L); c41.intoArray(t, 9 * L);
        c50.intoArray(t, 10 * L); c51.intoArray(t, 11 * L);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Argument checks

    /** Throws IllegalArgumentException naming {@code fn} (and the batch entry when >= 0) and the sizes. */
    private static void checkArgs(String fn, int entry, int m, int n, int k,
                                  float[] a, int aOff, int aRs, int aCs,
                                  float[] b, int bOff, int bRs, int bCs,
                                  float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(name(fn, entry) + ": negative size m=" + m + " n=" + n + " k=" + k);
        }
        if (m > 1 && ldc < n) {
            throw new IllegalArgumentException(name(fn, entry) + ": ldc=" + ldc + " < n=" + n + " (m=" + m + ", k=" + k + ")");
        }
        if (m > 0 && k > 0) checkOperand(fn, entry, "A", a, aOff, m, k, aRs, aCs, m, n, k);
        if (k > 0 && n > 0) checkOperand(fn, entry, "B", b, bOff, k, n, bRs, bCs, m, n, k);
        if (m > 0 && n > 0) checkOperand(fn, entry, "C", c, cOff, m, n, ldc, 1, m, n, k);
    }

    private static String name(String fn, int entry) {
        return entry < 0 ? fn : fn + "[" + entry + "]";
    }

    private static void checkOperand(String fn, int entry, String name, float[] x, int off, int rows, int cols,
                                     int rs, int cs, int m, int n, int k) {
        if (x == null) {
            throw new IllegalArgumentException(name(fn, entry) + ": " + name + " is null (m=" + m + " n=" + n + " k=" + k + ")");
        }
        long lo = off + Math.min(0L, (long) (rows - 1) * rs) + Math.min(0L, (long) (cols - 1) * cs);
        long hi = off + Math.max(0L, (long) (rows - 1) * rs) + Math.max(0L, (long) (cols - 1) * cs);
        if (lo < 0 || hi >= x.length) {
            throw new IllegalArgumentException(name(fn, entry) + ": " + name + " (" + rows + " x " + cols + ", offset "
                    + off + ", strides " + rs + ", " + cs + ") spans indices [" + lo + ", " + hi + "] outside float["
                    + x.length + "] (m=" + m + " n=" + n + " k=" + k + ")");
        }
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }
}
