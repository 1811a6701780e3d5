package mlip.tensor.cpu;

import mlip.tensor.DType;
import mlip.tensor.Tensor;

/**
 * Fused patch-sentence OT scores on the CPU (DESIGN.md 7.2). The composite reference, which the tests
 * compare against, is {@link mlip.tensor.Composite}.
 *
 * <p>Decisions:
 * <ul>
 *   <li><b>Tiles, never the pair tensor.</b> Work goes by tile: image i against a run of {@code jb} reports
 *       (jb * M = 48 columns, one Sgemm panel, when M = 8). One GEMM gives the tile's cosines
 *       {@code P_i S_tile^T (N, jb*M)}; then pair by pair, Sinkhorn runs on the (N, M) block and
 *       S_ij = sum T * cos. No B1 x B2 x N x M array exists: the scratch ({@link Scratch}, one per thread,
 *       reused across calls) is O(N * max(M, 48)) per thread.</li>
 *   <li><b>Forward keeps the scalings, backward rebuilds the plans from them.</b> Forward writes each pair's final
 *       u (N) and v (M) — B1*B2*(N+M) numbers, about 1/M + 1/N of the plans' B1*B2*N*M — in the inputs' dtype, by
 *       the contract of {@link mlip.tensor.Backend#patchSentenceOt}; backward rebuilds T^ij = u K v from the tile's
 *       cosines (one exp per entry, no Sinkhorn iterations). Its two passes keep each task the owner of the rows
 *       it writes: over images i, dP_i += W S_tile with W = [g_ij T^ij]_j (N, jb*M); then over report tiles,
 *       dS_tile += W^T P_i. Both are GEMMs with a useful shape (k = 48 and k = N). Both passes compute each tile's
 *       cosines by the same call as forward and K by the same double formula, so they rebuild the forward's K;
 *       sums run in a fixed order, so results do not depend on the thread count. The price: each pair's plan is
 *       rebuilt twice (2 N M exps; until this change, two full Sinkhorn runs) and 4 B1 B2 (N + M) bytes (F32) live
 *       from forward to backward.</li>
 *   <li><b>Sinkhorn in double</b> for F32 and F64 inputs (N*M values, cheap next to the N*M*D cosines), by
 *       exactly the rules written in {@link mlip.tensor.Backend#patchSentenceOt} (row-shifted kernel, guarded
 *       divisions); only the stored u, v are rounded to the inputs' dtype.</li>
 *   <li>F32 multiplies with {@link Sgemm}; F64 (gradchecks, references) with plain loops.</li>
 * </ul>
 */
final class OtScores {
    /** Columns of a tile's cosine block: one 6 x 48 Sgemm panel with 16-lane vectors. */
    private static final int TILE_COLUMNS = 48;

    private OtScores() {
    }

    /** One thread's buffers: a tile's cosines and gradient weights (N, jb*M), one pair's cosines and plan (N, M), u (N), v (M). */
    private static final class Scratch {
        float[] blockF = new float[0], wF = new float[0];
        double[] blockD = new double[0], wD = new double[0];
        double[] cos = new double[0], t = new double[0], u = new double[0], v = new double[0];

        Scratch ensure(DType dt, int n, int m, int w) {
            if (dt == DType.F32 && blockF.length < n * w) {
                blockF = new float[n * w];
                wF = new float[n * w];
            }
            if (dt == DType.F64 && blockD.length < n * w) {
                blockD = new double[n * w];
                wD = new double[n * w];
            }
            if (cos.length < n * m) {
                cos = new double[n * m];
                t = new double[n * m];
            }
            if (u.length < n) u = new double[n];
            if (v.length < m) v = new double[m];
            return this;
        }

        Object block(DType dt) {
            return dt == DType.F32 ? blockF : blockD;
        }

        Object weights(DType dt) {
            return dt == DType.F32 ? wF : wD;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * One call's inputs: contiguous patches (B1, N, D) at {@code p[po..]} and sentences (B2, M, D) at {@code s[so..]}
     * ({@code float[]} or {@code double[]}), masks as 1/0 doubles or null; report tiles of {@code jb} reports.
     */
    private record Problem(DType dt, Object p, int po, Object s, int so, double[] pm, double[] sm,
                           int b1, int b2, int n, int m, int d, int jb, double eps) {

        static Problem of(Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask, double eps) {
            Tensor p = patches.contiguous(), s = sentences.contiguous();
            int m = s.size(1);
            return new Problem(p.dtype(), array(p), p.offset(), array(s), s.offset(),
                    patchMask == null ? null : patchMask.toDoubleArray(), sentenceMask == null ? null : sentenceMask.toDoubleArray(),
                    p.size(0), s.size(0), p.size(1), m, p.size(2), Math.max(1, TILE_COLUMNS / Math.max(1, m)), eps);
        }

        int tiles() {
            return (b2 + jb - 1) / jb;
        }

        /** Reports [j0, j1) of tile {@code tile}. */
        int j0(int tile) {
            return tile * jb;
        }

        int j1(int tile) {
            return Math.min(b2, tile * jb + jb);
        }

        /** The tile's cosines P_i S_[j0,j1)^T into the thread's block (N, w), w = (j1 - j0) * M. */
        Scratch cosines(int i, int tile) {
            int w = (j1(tile) - j0(tile)) * m;
            Scratch sc = SCRATCH.get().ensure(dt, n, m, jb * m);
            gemm(false, n, w, d, p, po + i * n * d, d, 1, s, so + j0(tile) * m * d, 1, d, sc.block(dt), 0, w);
            return sc;
        }

        /** Pair (i, j) of the tile in sc: its cosines into sc.cos, its plan into sc.t (both (N, M)), its scalings into sc.u, sc.v. */
        void plan(int i, int j, int tile, int iterations, Scratch sc) {
            int w = (j1(tile) - j0(tile)) * m, c0 = (j - j0(tile)) * m;
            for (int q = 0; q < n; q++) {
                for (int r = 0; r < m; r++) sc.cos[q * m + r] = dt == DType.F32 ? sc.blockF[q * w + c0 + r] : sc.blockD[q * w + c0 + r];
            }
            sinkhorn(sc.cos, pm, i * n, sm, j * m, n, m, eps, iterations, sc.t, sc.u, sc.v);
        }

        /**
         * W[q, (j - j0) M + r] = g_ij T^ij_qr for every pair of the tile (N, w), T^ij = u K v rebuilt from the tile's
         * cosines and the forward's scalings {@code u (B1, B2, N)}, {@code v (B1, B2, M)} (contiguous arrays at uo, vo).
         */
        void weights(int i, int tile, double[] g, Object u, int uo, Object v, int vo, Scratch sc) {
            int w = (j1(tile) - j0(tile)) * m;
            for (int j = j0(tile); j < j1(tile); j++) {
                double gij = g[i * b2 + j];
                int c0 = (j - j0(tile)) * m, pair = i * b2 + j;
                for (int q = 0; q < n; q++) sc.u[q] = valid(pm, i * n + q) ? read(u, uo + pair * n + q) : 0;   // K's row is 0 when masked
                for (int r = 0; r < m; r++) sc.v[r] = valid(sm, j * m + r) ? read(v, vo + pair * m + r) : 0;
                for (int q = 0; q < n; q++) {
                    int at = q * w + c0;
                    double max = Double.NEGATIVE_INFINITY, uq = sc.u[q];
                    for (int r = 0; r < m; r++) if (valid(sm, j * m + r)) max = Math.max(max, cos(sc, at + r));   // rowmax over valid columns
                    for (int r = 0; r < m; r++) {
                        double vr = sc.v[r];
                        // u K v with K = exp((cos - rowmax) / eps) <= 1 on valid entries; an entry with u or v = 0 is 0
                        double x = uq != 0 && vr != 0 ? gij * (uq * Math.exp((cos(sc, at + r) - max) / eps) * vr) : 0;
                        if (dt == DType.F32) sc.wF[at + r] = (float) x;
                        else sc.wD[at + r] = x;
                    }
                }
            }
        }

        /** The tile's cosine at flat index {@code at} of sc's block. */
        private double cos(Scratch sc, int at) {
            return dt == DType.F32 ? sc.blockF[at] : sc.blockD[at];
        }
    }

    private static double read(Object a, int at) {
        return a instanceof float[] f ? f[at] : ((double[]) a)[at];
    }

    private static Object array(Tensor t) {
        CpuStorage st = (CpuStorage) t.storage();
        return t.dtype() == DType.F32 ? st.f : st.d;
    }

    // ---------------------------------------------------------------- forward and backward

    /** {scores (B1, B2), u (B1, B2, N), v (B1, B2, M)}: see {@link mlip.tensor.Backend#patchSentenceOt}. */
    static Tensor[] forward(CpuBackend be, Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask, double eps, int iterations) {
        Problem pr = Problem.of(patches, patchMask, sentences, sentenceMask, eps);
        int tiles = pr.tiles(), n = pr.n, m = pr.m, nm = n * m;
        Tensor out = be.empty(pr.dt, new int[]{pr.b1, pr.b2});                      // (B1, B2)
        Tensor u = be.empty(pr.dt, new int[]{pr.b1, pr.b2, n});                     // (B1, B2, N)
        Tensor v = be.empty(pr.dt, new int[]{pr.b1, pr.b2, m});                     // (B1, B2, M)
        CpuStorage so = (CpuStorage) out.storage(), su = (CpuStorage) u.storage(), sv = (CpuStorage) v.storage();
        be.pool().forTasks(pr.b1 * tiles, task -> {
            int i = task / tiles, tile = task % tiles;
            Scratch sc = pr.cosines(i, tile);
            for (int j = pr.j0(tile); j < pr.j1(tile); j++) {
                pr.plan(i, j, tile, iterations, sc);
                double score = 0;
                for (int q = 0; q < nm; q++) score += sc.t[q] * sc.cos[q];
                int pair = i * pr.b2 + j;
                so.set(pair, score);
                for (int q = 0; q < n; q++) su.set(pair * n + q, sc.u[q]);
                for (int r = 0; r < m; r++) sv.set(pair * m + r, sc.v[r]);
            }
        });
        return new Tensor[]{out, u, v};
    }

    /** {dPatches (B1, N, D), dSentences (B2, M, D)}, the plans rebuilt from {@code u (B1, B2, N)}, {@code v (B1, B2, M)}. */
    static Tensor[] backward(CpuBackend be, Tensor gradScores, Tensor patches, Tensor patchMask, Tensor sentences, Tensor sentenceMask,
                             Tensor u, Tensor v, double eps) {
        Problem pr = Problem.of(patches, patchMask, sentences, sentenceMask, eps);
        int n = pr.n, m = pr.m, d = pr.d;
        double[] g = gradScores.toDoubleArray();                                     // (B1, B2)
        Tensor uc = u.contiguous(), vc = v.contiguous();                            // (B1, B2, N), (B1, B2, M): forward's, no copy
        Object ua = array(uc), va = array(vc);
        int uo = uc.offset(), vo = vc.offset();
        Tensor dP = be.empty(pr.dt, new int[]{pr.b1, n, d});                         // (B1, N, D)
        Tensor dS = be.empty(pr.dt, new int[]{pr.b2, m, d});                         // (B2, M, D)
        Object gp = array(dP), gs = array(dS);
        be.pool().forTasks(pr.b1, i -> {                                             // dP_i += W (N, w) S_tile (w, D)
            for (int tile = 0; tile < pr.tiles(); tile++) {
                Scratch sc = pr.cosines(i, tile);
                pr.weights(i, tile, g, ua, uo, va, vo, sc);
                int w = (pr.j1(tile) - pr.j0(tile)) * m;
                gemm(true, n, d, w, sc.weights(pr.dt), 0, w, 1, pr.s, pr.so + pr.j0(tile) * m * d, d, 1, gp, i * n * d, d);
            }
        });
        be.pool().forTasks(pr.tiles(), tile -> {                                     // dS_tile += W^T (w, N) P_i (N, D)
            int w = (pr.j1(tile) - pr.j0(tile)) * m;
            for (int i = 0; i < pr.b1; i++) {
                Scratch sc = pr.cosines(i, tile);
                pr.weights(i, tile, g, ua, uo, va, vo, sc);
                gemm(true, w, d, n, sc.weights(pr.dt), 0, 1, w, pr.p, pr.po + i * n * d, d, 1, gs, pr.j0(tile) * m * d, d);
            }
        });
        return new Tensor[]{dP, dS};
    }

    /**
     * C (rows x cols, row stride ldc) = A B, or C += A B when {@code accumulate}, with A(r, q) = a[ao + r*ars + q*acs]
     * and B(q, c) = b[bo + q*brs + c*bcs]: {@link Sgemm} on the calling thread for {@code float[]}, a plain loop
     * (q summed in order) for {@code double[]}.
     */
    private static void gemm(boolean accumulate, int rows, int cols, int k, Object a, int ao, int ars, int acs,
                             Object b, int bo, int brs, int bcs, Object c, int co, int ldc) {
        if (a instanceof float[] af) {
            Sgemm.sgemm(null, rows, cols, k, 1f, af, ao, ars, acs, (float[]) b, bo, brs, bcs, accumulate ? 1f : 0f, (float[]) c, co, ldc);
            return;
        }
        double[] ad = (double[]) a, bd = (double[]) b, cd = (double[]) c;
        for (int r = 0; r < rows; r++) {
            for (int col = 0; col < cols; col++) {
                double sum = accumulate ? cd[co + r * ldc + col] : 0;
                for (int q = 0; q < k; q++) sum += ad[ao + r * ars + q * acs] * bd[bo + q * brs + col * bcs];
                cd[co + r * ldc + col] = sum;
            }
        }
    }

    // ---------------------------------------------------------------- Sinkhorn on one pair

    private static boolean valid(double[] mask, int at) {
        return mask == null || mask[at] != 0;
    }

    /**
     * The plan of one pair into {@code t} (N, M) from its cosines {@code cos} (N, M), with cost 1 - cos and the
     * rules of {@link mlip.tensor.Composite}; masks are read at {@code rowMask[ro + p]}, {@code colMask[co + s]}
     * (null: all valid). {@code u} (N) and {@code v} (M) are scratch and hold the final scalings.
     */
    static void sinkhorn(double[] cos, double[] rowMask, int ro, double[] colMask, int co, int n, int m, double eps, int iterations,
                         double[] t, double[] u, double[] v) {
        int rows = 0, cols = 0;
        for (int p = 0; p < n; p++) if (valid(rowMask, ro + p)) rows++;
        for (int s = 0; s < m; s++) if (valid(colMask, co + s)) cols++;
        double a = 1.0 / Math.max(rows, 1), b = 1.0 / Math.max(cols, 1);
        for (int p = 0; p < n; p++) {                                   // K, shifted so each valid row's largest entry is 1
            boolean rv = valid(rowMask, ro + p);
            double max = Double.NEGATIVE_INFINITY;
            for (int s = 0; s < m; s++) if (rv && valid(colMask, co + s)) max = Math.max(max, cos[p * m + s]);
            for (int s = 0; s < m; s++) t[p * m + s] = rv && valid(colMask, co + s) ? Math.exp((cos[p * m + s] - max) / eps) : 0;
        }
        for (int s = 0; s < m; s++) v[s] = 1;
        for (int it = 0; it < iterations; it++) {
            int p = 0;
            for (; p + 4 <= n; p += 4) {                                // u = a / (K v), four rows at a time (independent sums)
                double k0 = 0, k1 = 0, k2 = 0, k3 = 0;
                for (int s = 0; s < m; s++) {
                    double vs = v[s];
                    k0 += t[p * m + s] * vs;
                    k1 += t[(p + 1) * m + s] * vs;
                    k2 += t[(p + 2) * m + s] * vs;
                    k3 += t[(p + 3) * m + s] * vs;
                }
                u[p] = k0 > 0 ? a / k0 : 0;                             // K v = 0: a masked row, or no valid column at all
                u[p + 1] = k1 > 0 ? a / k1 : 0;
                u[p + 2] = k2 > 0 ? a / k2 : 0;
                u[p + 3] = k3 > 0 ? a / k3 : 0;
            }
            for (; p < n; p++) {
                double kv = 0;
                for (int s = 0; s < m; s++) kv += t[p * m + s] * v[s];
                u[p] = kv > 0 ? a / kv : 0;
            }
            int s = 0;
            for (; s + 4 <= m; s += 4) {                                // v = b / (K^T u), four columns at a time
                double c0 = 0, c1 = 0, c2 = 0, c3 = 0;
                for (p = 0; p < n; p++) {
                    double up = u[p];
                    int at = p * m + s;
                    c0 += t[at] * up;
                    c1 += t[at + 1] * up;
                    c2 += t[at + 2] * up;
                    c3 += t[at + 3] * up;
                }
                v[s] = c0 > 0 ? b / c0 : 0;
                v[s + 1] = c1 > 0 ? b / c1 : 0;
                v[s + 2] = c2 > 0 ? b / c2 : 0;
                v[s + 3] = c3 > 0 ? b / c3 : 0;
            }
            for (; s < m; s++) {
                double c = 0;
                for (p = 0; p < n; p++) c += t[p * m + s] * u[p];
                v[s] = c > 0 ? b / c : 0;
            }
        }
        for (int p = 0; p < n; p++) {
            for (int s = 0; s < m; s++) t[p * m + s] *= u[p] * v[s];
        }
    }
}
