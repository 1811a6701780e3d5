package mlip.tensor.cpu;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerArray;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM on the CPU: {@code C = alpha * A·B + beta * C}, row-major C, any strides for A and B.
 *
 * <h2>How it is blocked (Goto/BLIS, adapted to row-major C and the Vector API)</h2>
 * <pre>
 *   C (m x n) is cut into micro-tiles of MR x NR = 6 x 48 (6 rows, 3 vectors of 16 lanes on AVX-512).
 *   K is cut into blocks of kc <= KC = 256 (balanced: k = 300 gives 150 + 150, not 256 + 44).
 *
 *   B  is packed once per call, for all of K, into panels of NR columns: panel (kc-block q, column panel jp)
 *      holds B(p, jp*NR .. jp*NR+NR-1) for its kc rows, NR contiguous floats per p, zero-padded past n.
 *      A panel is kc * NR * 4 = 48 KB: it stays in L1 while the micro-kernel walks down one m-block.
 *   A  is read in place when its rows are contiguous (aCs == 1: the common row-major and B-transposed
 *      cases): the kernel broadcasts A(i, p) from 6 row streams. Any other layout (transposed A, strided
 *      views) is packed per m-block into panels of MR rows, MR contiguous floats per p; edge rows are
 *      zero-padded. The m-block (<= MC = 96 rows x kc) lives in L2 (1 MB) while the kernel sweeps B's panels.
 *
 *   micro-kernel: 18 FloatVector accumulators in local variables (an array of them gets boxed: 90 -> 3
 *      GFLOP/s), per p: 3 vector loads of B, 6 scalar broadcasts of A, 18 fma. It writes its tile to a
 *      thread-local 6 x 48 buffer; storeTile applies alpha/beta and writes C (or the valid corner of an
 *      edge tile). Keeping the C update out of the kernel keeps the kernel small enough for C2 to inline
 *      every Vector API call: a kernel that updated C itself (3 beta modes x 18 accumulators) hit C2's
 *      NodeCountInliningCutoff, its vector helpers were not inlined and it ran 3-5x slower, depending on
 *      which profile C2 saw first.
 * </pre>
 *
 * <h2>Threads</h2>
 * One {@link Parallel#forTasks} per call, no other barrier: a task is an m-block (all of N; m-blocks are
 * split over N too when there are fewer than 2 per thread) and loops over all kc-blocks itself. B panels are
 * packed lazily by whichever task needs them first (a CAS per panel; the others wait for that one panel),
 * so packing is shared and runs on both cores. On this 2-vCPU VM waking a parked pool thread costs
 * 50-250 us; the first version (a forTasks to pack B and another to compute, per kc-block) lost 20-40% at
 * n = 1024 to those wake-ups. Products under {@link #PARALLEL_MIN_FLOPS} run on the calling thread.
 *
 * <h2>Determinism</h2>
 * K is never split across tasks. Each C element is produced by exactly one micro-kernel call per kc-block,
 * whose fma chain runs p in order from zero, then by storeTile; kc depends only on k. Which task or thread
 * computes a tile, and in which order, never changes a bit: results are identical for any thread count.
 * The scalar path ({@code -Dmlip.vectorBitSize=0}) uses the same blocking and {@link Math#fma}, so it gives
 * the same bits as the vector path.
 *
 * <h2>Measured (AMD EPYC Zen 5, 2 vCPUs, AVX-512, JDK 25; OpenBLAS 0.3.21 picks its Haswell AVX2 kernels)</h2>
 * MEASURED_FIGURES
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
    static final int KC = 256;
    /** Target rows per task (m-block). */
    static final int MC = 96;
    /** Below this many flops (2*m*n*k) a product runs on the calling thread: a pool wake-up costs more. */
    static final long PARALLEL_MIN_FLOPS = 1L << 22;

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
        checkArgs("sgemm", m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc);
        gemm(pool, m, n, k, alpha, a, aOff, aRs, aCs, b, bOff, bRs, bCs, beta, c, cOff, ldc);
    }

    /**
     * The same for {@code batch} independent products; offsets per batch entry (broadcast batches may repeat
     * offsets of a or b; the C blocks must not overlap). Large batches are split over the pool entry by entry,
     * small ones run each product on the whole pool.
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
        for (int e = 0; e < batch; e++) {
            checkArgs("sgemmBatched[" + e + "]", m, n, k, a, aOffs[e], aRs, aCs, b, bOffs[e], bRs, bCs, c, cOffs[e], ldc);
        }
        int threads = pool == null ? 1 : pool.threads();
        long flops = 2L * m * n * k;
        if (threads > 1 && batch > 1 && (batch >= 4 * threads || flops < PARALLEL_MIN_FLOPS)) {
            // Split over entries; each entry runs on one thread (same bits as any other split).
            pool.forTasks(batch, e -> gemm(null, m, n, k, alpha, a, aOffs[e], aRs, aCs, b, bOffs[e], bRs, bCs,
                    beta, c, cOffs[e], ldc));
        } else {
            for (int e = 0; e < batch; e++) {
                gemm(pool, m, n, k, alpha, a, aOffs[e], aRs, aCs, b, bOffs[e], bRs, bCs, beta, c, cOffs[e], ldc);
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
        checkArgs("reference", m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc);
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

    private static void gemm(Parallel pool, int m, int n, int k, float alpha,
                             float[] a, int aOff, int aRs, int aCs,
                             float[] b, int bOff, int bRs, int bCs,
                             float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f) {
            scaleC(m, n, beta, c, cOff, ldc);
            return;
        }
        int threads = pool == null || 2L * m * n * k < PARALLEL_MIN_FLOPS ? 1 : pool.threads();
        Job job = new Job(threads, m, n, k, alpha, a, aOff, aRs, aCs, b, bOff, bRs, bCs, beta, c, cOff, ldc);
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

    /** One product, cut into tasks (m-block x n-range); {@link #run} executes one task. */
    private static final class Job {
        final int m, n, k;
        final float alpha, beta;
        final float[] a, b, c;
        final int aOff, aRs, aCs, bOff, bRs, bCs, cOff, ldc;
        final boolean aDirect;      // A rows contiguous: the kernel reads A in place
        final int kcE, nkb;         // balanced K block and their count
        final int nPan;             // NR-column panels of B
        final int mcRows, mBlocks;  // rows per m-block (multiple of MR), number of m-blocks
        final int ncPan, nBlocks;   // panels per n-range, number of n-ranges
        final int threads;
        final float[] bp;           // packed B, (q, jp) at q*kcE*nPan*NR + jp*kb*NR
        final AtomicIntegerArray state; // per (q, jp): 0 unpacked, 1 being packed, 2 packed, 3 failed

        Job(int threads, int m, int n, int k, float alpha, float[] a, int aOff, int aRs, int aCs,
            float[] b, int bOff, int bRs, int bCs, float beta, float[] c, int cOff, int ldc) {
            this.threads = threads;
            this.m = m; this.n = n; this.k = k; this.alpha = alpha; this.beta = beta;
            this.a = a; this.aOff = aOff; this.aRs = aRs; this.aCs = aCs;
            this.b = b; this.bOff = bOff; this.bRs = bRs; this.bCs = bCs;
            this.c = c; this.cOff = cOff; this.ldc = ldc;
            this.aDirect = aCs == 1;
            this.nkb = ceilDiv(k, KC);
            this.kcE = ceilDiv(k, nkb);
            this.nPan = ceilDiv(n, NR);
            int mPan = ceilDiv(m, MR);
            int mb = ceilDiv(mPan, MC / MR);
            if (threads > 1) mb = Math.min(mPan, ceilDiv(mb, threads) * threads);
            int mcPan = ceilDiv(mPan, mb);
            this.mcRows = mcPan * MR;
            this.mBlocks = ceilDiv(mPan, mcPan);
            int nb = 1;
            if (threads > 1 && mBlocks < 2 * threads) nb = Math.min(nPan, ceilDiv(2 * threads, mBlocks));
            this.ncPan = ceilDiv(nPan, nb);
            this.nBlocks = ceilDiv(nPan, ncPan);
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
            return mBlocks * nBlocks;
        }

        void run(int t) {
            int i0 = (t / nBlocks) * mcRows, i1 = Math.min(m, i0 + mcRows);
            int jp0 = (t % nBlocks) * ncPan, jp1 = Math.min(nPan, jp0 + ncPan);
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
        for (int ip = 0, base = 0; ip < rows; ip += MR, base += kb * MR) {
            int h = Math.min(MR, rows - ip);
            int src = aOff + (i0 + ip) * aRs + p0 * aCs;
            if (aCs == 1) {
                for (int i = 0; i < h; i++) {
                    int s = src + i * aRs;
                    for (int p = 0, d = base + i; p < kb; p++, d += MR) dst[d] = a[s + p];
                }
            } else {
                for (int p = 0; p < kb; p++) {
                    int s = src + p * aCs, d = base + p * MR;
                    for (int i = 0; i < h; i++) dst[d + i] = a[s + i * aRs];
                }
            }
            if (h < MR) {
                for (int p = 0; p < kb; p++) {
                    for (int i = h; i < MR; i++) dst[base + p * MR + i] = 0f;
                }
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

    private static void checkArgs(String fn, int m, int n, int k,
                                  float[] a, int aOff, int aRs, int aCs,
                                  float[] b, int bOff, int bRs, int bCs,
                                  float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(fn + ": negative size m=" + m + " n=" + n + " k=" + k);
        }
        if (m > 1 && ldc < n) {
            throw new IllegalArgumentException(fn + ": ldc=" + ldc + " < n=" + n + " (m=" + m + ", k=" + k + ")");
        }
        if (m > 0 && k > 0) checkOperand(fn, "A", a, aOff, m, k, aRs, aCs, m, n, k);
        if (k > 0 && n > 0) checkOperand(fn, "B", b, bOff, k, n, bRs, bCs, m, n, k);
        if (m > 0 && n > 0) checkOperand(fn, "C", c, cOff, m, n, ldc, 1, m, n, k);
    }

    private static void checkOperand(String fn, String name, float[] x, int off, int rows, int cols, int rs, int cs,
                                     int m, int n, int k) {
        if (x == null) throw new IllegalArgumentException(fn + ": " + name + " is null (m=" + m + " n=" + n + " k=" + k + ")");
        long lo = off + Math.min(0L, (long) (rows - 1) * rs) + Math.min(0L, (long) (cols - 1) * cs);
        long hi = off + Math.max(0L, (long) (rows - 1) * rs) + Math.max(0L, (long) (cols - 1) * cs);
        if (lo < 0 || hi >= x.length) {
            throw new IllegalArgumentException(fn + ": " + name + " (" + rows + " x " + cols + ", offset " + off
                    + ", strides " + rs + ", " + cs + ") spans indices [" + lo + ", " + hi + "] outside float["
                    + x.length + "] (m=" + m + " n=" + n + " k=" + k + ")");
        }
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }
}
