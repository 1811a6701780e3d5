package mlip.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import mlip.tensor.Composite;
import mlip.tensor.DType;
import mlip.tensor.Device;
import mlip.tensor.Distribution;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import mlip.tensor.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * Fused patch-sentence OT scores, scalings and gradients ({@link OtScores}) and top-k gather against their
 * composites ({@link Composite}); Sinkhorn, and the plans rebuilt from the op's scalings, against a plain
 * double-precision reference and its marginals; masked rows and columns without NaN; the fused path's memory
 * (no B1 x B2 x N x M buffer) by allocated bytes.
 */
class OtScoresTest {
    private static final DType[] FLOATS = {DType.F32, DType.F64};

    private final Generator gen = new Generator(42);

    /** Random rows, L2-normalised, as the model's projection heads give them. */
    private Tensor unitRows(DType dt, int... shape) {
        Tensor x = Tensor.random(gen, Distribution.NORMAL, DType.F64, Device.CPU, shape);
        return x.div(x.square().sum(-1, true).sqrt()).to(dt);
    }

    private static Tensor mask(DType dt, int rows, int cols, int[] validCounts) {
        double[] m = new double[rows * cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < validCounts[r]; c++) m[r * cols + c] = 1;
        return Tensor.of(m, rows, cols).to(dt);
    }

    private static void assertNoNaN(String what, Tensor t) {
        for (double v : t.toDoubleArray()) assertTrue(Double.isFinite(v), what + " has a non-finite value " + v);
    }

    // ---------------------------------------------------------------- fused vs composite

    /**
     * Scores, scalings and both gradients of the fused CPU op against the composite, on the same inputs; and the
     * composite's backward fed the fused scalings (the plan convention of Backend#patchSentenceOt, shared).
     */
    private void fusedMatchesComposite(String what, Tensor p, Tensor pm, Tensor s, Tensor sm, double eps, int iters) {
        Tensor g = Tensor.random(gen, Distribution.NORMAL, DType.F64, Device.CPU, p.size(0), s.size(0)).to(p.dtype());
        Tensor.OtResult fused = Tensor.patchSentenceOt(p, pm, s, sm, eps, iters);
        Tensor.OtGrads fg = Tensor.patchSentenceOtScoresBackward(g, p, pm, s, sm, fused.rowScalings(), fused.colScalings(), eps);
        Tensor pmc = pm == null ? null : pm.ne(0).to(p.dtype()), smc = sm == null ? null : sm.ne(0).to(p.dtype());   // the Backend contract: 1/0
        Tensor[] composite = Composite.patchSentenceOt(p, pmc, s, smc, eps, iters);
        Tensor[] cg = Composite.patchSentenceOtScoresBackward(g, p, pmc, s, smc, composite[1], composite[2], eps);
        Tolerance.assertClose(what + " scores", fused.scores(), composite[0]);
        Tolerance.assertClose(what + " u", fused.rowScalings(), composite[1]);
        Tolerance.assertClose(what + " v", fused.colScalings(), composite[2]);
        Tolerance.assertClose(what + " dPatches", fg.dPatches(), cg[0]);
        Tolerance.assertClose(what + " dSentences", fg.dSentences(), cg[1]);
        Tensor[] crossed = Composite.patchSentenceOtScoresBackward(g, p, pmc, s, smc, fused.rowScalings(), fused.colScalings(), eps);
        Tolerance.assertClose(what + " dPatches, composite from the fused scalings", fg.dPatches(), crossed[0]);
        Tolerance.assertClose(what + " dSentences, composite from the fused scalings", fg.dSentences(), crossed[1]);
        // scalings given as non-contiguous views: the same gradients
        Tensor uView = fused.rowScalings().transpose(0, 1).contiguous().transpose(0, 1), vView = fused.colScalings().transpose(1, 2).contiguous().transpose(1, 2);
        Tensor.OtGrads fv = Tensor.patchSentenceOtScoresBackward(g, p, pm, s, sm, uView, vView, eps);
        assertArrayEquals(fg.dPatches().toDoubleArray(), fv.dPatches().toDoubleArray(), what + " dPatches from scaling views");
        assertArrayEquals(fg.dSentences().toDoubleArray(), fv.dSentences().toDoubleArray(), what + " dSentences from scaling views");
        for (Tensor t : new Tensor[]{fused.scores(), fused.rowScalings(), fused.colScalings(), fg.dPatches(), fg.dSentences()}) assertNoNaN(what, t);
        // masked rows and columns have scaling 0
        double[] u = fused.rowScalings().toDoubleArray(), v = fused.colScalings().toDoubleArray();
        int b1 = p.size(0), b2 = s.size(0), n = p.size(1), m = s.size(1);
        double[] pmv = pm == null ? null : pm.toDoubleArray(), smv = sm == null ? null : sm.toDoubleArray();
        for (int i = 0; i < b1; i++) {
            for (int j = 0; j < b2; j++) {
                for (int q = 0; q < n; q++) if (pmv != null && pmv[i * n + q] == 0) assertEquals(0, u[(i * b2 + j) * n + q], what + " u of a masked patch");
                for (int r = 0; r < m; r++) if (smv != null && smv[j * m + r] == 0) assertEquals(0, v[(i * b2 + j) * m + r], what + " v of a masked sentence");
            }
        }
    }

    @Test
    void otScoresFusedMatchesCompositeWithMasksF32AndF64() {
        for (DType dt : FLOATS) {
            int b1 = 4, b2 = 5, n = 13, m = 7, d = 19;
            Tensor p = unitRows(dt, b1, n, d), s = unitRows(dt, b2, m, d);
            // images: full, all but one patch masked, half masked, full; reports: 1 sentence, full, 3, 6, 2
            Tensor pm = mask(dt, b1, n, new int[]{13, 1, 7, 13}), sm = mask(dt, b2, m, new int[]{1, 7, 3, 6, 2});
            fusedMatchesComposite("masked " + dt, p, pm, s, sm, 0.1, 20);
            fusedMatchesComposite("no masks " + dt, p, null, s, null, 0.1, 20);
            fusedMatchesComposite("eps 0.5, 3 iterations " + dt, p, pm, s, sm, 0.5, 3);
            // non-contiguous inputs (the fused op copies, the composite takes views) and an I32 mask
            Tensor pt = unitRows(dt, n, b1, d).transpose(0, 1), st = unitRows(dt, m, b2, d).transpose(0, 1);   // (B1, N, D), (B2, M, D)
            fusedMatchesComposite("views " + dt, pt, pm.to(DType.I32), st, sm, 0.1, 20);
        }
    }

    @Test
    void otScoresAtTheBenchShapeMatchComposite() {
        // B1 != B2, the MLIP shape with kept patches (N = 72 of 144), M = 8 sentences, D = 128
        Tensor p = unitRows(DType.F32, 6, 72, 128), s = unitRows(DType.F32, 5, 8, 128);
        fusedMatchesComposite("bench shape", p, null, s, mask(DType.F32, 5, 8, new int[]{8, 1, 5, 8, 3}), 0.1, 20);
    }

    @Test
    void fullyMaskedImagesAndEmptyReportsScoreZeroWithoutNaN() {
        for (DType dt : FLOATS) {
            Tensor p = unitRows(dt, 2, 5, 4), s = unitRows(dt, 3, 3, 4);
            Tensor pm = mask(dt, 2, 5, new int[]{0, 5}), sm = mask(dt, 3, 3, new int[]{3, 0, 1});
            fusedMatchesComposite("empty " + dt, p, pm, s, sm, 0.1, 20);
            double[] sc = Tensor.patchSentenceOtScores(p, pm, s, sm, 0.1, 20).toDoubleArray();   // (2, 3)
            for (int j = 0; j < 3; j++) assertEquals(0, sc[j], "no valid patch: score 0");
            assertEquals(0, sc[3 + 1], "no valid sentence: score 0");
            // a 1-sentence report takes all of an image's mass: S = mean cos over valid patches to that sentence
            Tensor cos = p.select(0, 1).matmul(s.select(0, 2).t());                               // (5, 3)
            assertEquals(cos.select(1, 0).mean().item(), sc[3 + 2], dt == DType.F32 ? 1e-6 : 1e-12);
        }
    }

    @Test
    void fusedResultsDoNotDependOnTheThreadCount() {
        Tensor p = unitRows(DType.F32, 5, 17, 33), s = unitRows(DType.F32, 4, 6, 33);
        Tensor pm = mask(DType.F32, 5, 17, new int[]{17, 3, 9, 17, 1}), g = Tensor.randn(gen, 5, 4);
        Tensor[] ref = null;
        for (int threads : new int[]{1, 2, 3}) {
            CpuBackend be = new CpuBackend(new Parallel(threads));
            Tensor[] ot = be.patchSentenceOt(p, pm, s, null, 0.1, 20);                  // scores, u, v
            Tensor[] gr = be.patchSentenceOtScoresBackward(g, p, pm, s, null, ot[1], ot[2], 0.1);
            Tensor[] now = {ot[0], ot[1], ot[2], gr[0], gr[1]};
            if (ref == null) ref = now;
            for (int k = 0; k < now.length; k++) assertArrayEquals(ref[k].toFloatArray(), now[k].toFloatArray(), "output " + k + " on " + threads + " threads");
        }
    }

    // ---------------------------------------------------------------- Sinkhorn

    /** Straightforward Sinkhorn in double: K = exp(-C / eps) on valid entries (no shift), guarded divisions. */
    static double[][] sinkhornReference(double[][] cost, boolean[] rows, boolean[] cols, double eps, int iters) {
        int n = cost.length, m = cost[0].length, nr = 0, nc = 0;
        for (boolean r : rows) nr += r ? 1 : 0;
        for (boolean c : cols) nc += c ? 1 : 0;
        double[][] k = new double[n][m];
        for (int p = 0; p < n; p++) for (int s = 0; s < m; s++) k[p][s] = rows[p] && cols[s] ? Math.exp(-cost[p][s] / eps) : 0;
        double[] u = new double[n], v = new double[m];
        java.util.Arrays.fill(v, 1);
        for (int it = 0; it < iters; it++) {
            for (int p = 0; p < n; p++) {
                double kv = 0;
                for (int s = 0; s < m; s++) kv += k[p][s] * v[s];
                u[p] = kv > 0 ? (rows[p] ? 1.0 / nr : 0) / kv : 0;
            }
            for (int s = 0; s < m; s++) {
                double ku = 0;
                for (int p = 0; p < n; p++) ku += k[p][s] * u[p];
                v[s] = ku > 0 ? (cols[s] ? 1.0 / nc : 0) / ku : 0;
            }
        }
        double[][] t = new double[n][m];
        for (int p = 0; p < n; p++) for (int s = 0; s < m; s++) t[p][s] = u[p] * k[p][s] * v[s];
        return t;
    }

    @Test
    void sinkhornPlansMatchTheDoubleReferenceAndHitTheMarginals() {
        // D = 3: cosines spread over [-1, 1], costs over [0, 2] = 20 eps, so Sinkhorn needs real iterations
        // (random unit vectors in high D are nearly orthogonal and converge in 5); 100 suffice here, 5 do not
        int n = 37, m = 6, d = 3, iters = 100;
        double eps = 0.1;
        Tensor p = unitRows(DType.F64, n, d), s = unitRows(DType.F64, m, d);
        Tensor cos = p.matmul(s.t());                                           // (N, M)
        boolean[] rows = new boolean[n], cols = {true, true, false, true, true, false};
        for (int i = 0; i < n; i++) rows[i] = i % 5 != 3;                       // 30 valid patches
        double[] cosFlat = cos.toDoubleArray(), rm = new double[n], cm = new double[m];
        double[][] cost = new double[n][m];
        for (int i = 0; i < n; i++) {
            rm[i] = rows[i] ? 1 : 0;
            for (int j = 0; j < m; j++) cost[i][j] = 1 - cosFlat[i * m + j];
        }
        for (int j = 0; j < m; j++) cm[j] = cols[j] ? 1 : 0;
        double[][] ref = sinkhornReference(cost, rows, cols, eps, iters);

        // the fused loop's Sinkhorn (double) ...
        double[] t = new double[n * m];
        OtScores.sinkhorn(cosFlat, rm, 0, cm, 0, n, m, eps, iters, t, new double[n], new double[m]);
        // ... and the composite, in F64 and F32
        Tensor rowMask = Tensor.of(rm, n), colMask = Tensor.of(cm, m);
        Tensor c64 = Composite.sinkhornPlan(cos.neg().add(1), rowMask, colMask, eps, iters);
        Tensor c32 = Composite.sinkhornPlan(cos.neg().add(1).to(DType.F32), rowMask.to(DType.F32), colMask.to(DType.F32), eps, iters);
        double[][] plans = {t, c64.toDoubleArray(), c32.toDoubleArray()};
        String[] names = {"fused", "composite F64", "composite F32"};
        double[] tol = {1e-12, 1e-12, 1e-6};   // absolute, on entries of at most 1/30
        for (int k = 0; k < 3; k++) {
            double[] rowSum = new double[n], colSum = new double[m];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    double v = plans[k][i * m + j];
                    assertTrue(Double.isFinite(v), names[k] + " NaN/inf at " + i + "," + j);
                    assertEquals(ref[i][j], v, tol[k], names[k] + " plan at " + i + "," + j);
                    if (!rows[i] || !cols[j]) assertEquals(0, v, names[k] + ": masked entries carry no mass");
                    rowSum[i] += v;
                    colSum[j] += v;
                }
            }
            // the last update is v's: column sums are b to rounding; row sums reach a by convergence
            for (int j = 0; j < m; j++) assertEquals(cols[j] ? 0.25 : 0, colSum[j], tol[k], names[k] + " column " + j);
            for (int i = 0; i < n; i++) assertEquals(rows[i] ? 1.0 / 30 : 0, rowSum[i], 1e-4, names[k] + " row " + i);
        }
        OtScores.sinkhorn(cosFlat, rm, 0, cm, 0, n, m, eps, 5, t, new double[n], new double[m]);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < m; j++) sum += t[i * m + j];
            worst = Math.max(worst, Math.abs(sum - (rows[i] ? 1.0 / 30 : 0)));
        }
        assertTrue(worst > 1e-4, "the check above is not trivially met: after 5 iterations the rows are off by " + worst);
    }

    /**
     * The contract of Backend#patchSentenceOt: T = u K v with K = exp((cos - rowmax) / eps) on valid entries, rebuilt
     * here on the host from the op's scalings, is the Sinkhorn plan: equal to the plain double reference (F64),
     * with its marginals (F32 and F64), no mass on masked entries. Batch: images with all and with 11 of 37
     * patches, reports of 1 and of 6 sentences, D = 3 so that 100 iterations matter (see above).
     */
    @Test
    void planRebuiltFromTheScalingsHasTheSinkhornMarginals() {
        int b1 = 2, b2 = 2, n = 37, m = 6, d = 3, iters = 100;
        double eps = 0.1;
        int[] patchCounts = {37, 11}, sentenceCounts = {1, 6};
        for (DType dt : FLOATS) {
            Tensor p = unitRows(dt, b1, n, d), s = unitRows(dt, b2, m, d);
            Tensor pm = mask(dt, b1, n, patchCounts), sm = mask(dt, b2, m, sentenceCounts);
            Tensor.OtResult ot = Tensor.patchSentenceOt(p, pm, s, sm, eps, iters);
            double[] u = ot.rowScalings().toDoubleArray(), v = ot.colScalings().toDoubleArray(), sc = ot.scores().toDoubleArray();
            for (int i = 0; i < b1; i++) {
                for (int j = 0; j < b2; j++) {
                    int rows = patchCounts[i], cols = sentenceCounts[j], pair = i * b2 + j;
                    double[] cos = p.select(0, i).to(DType.F64).matmul(s.select(0, j).to(DType.F64).t()).toDoubleArray();   // (N, M)
                    double[][] cost = new double[n][m], t = new double[n][m];
                    boolean[] rv = new boolean[n], cv = new boolean[m];
                    for (int q = 0; q < n; q++) rv[q] = q < rows;
                    for (int r = 0; r < m; r++) cv[r] = r < cols;
                    double score = 0;
                    for (int q = 0; q < n; q++) {
                        double max = Double.NEGATIVE_INFINITY;
                        for (int r = 0; r < m; r++) if (cv[r]) max = Math.max(max, cos[q * m + r]);
                        for (int r = 0; r < m; r++) {
                            double k = rv[q] && cv[r] ? Math.exp((cos[q * m + r] - max) / eps) : 0;
                            t[q][r] = u[pair * n + q] * k * v[pair * m + r];
                            cost[q][r] = 1 - cos[q * m + r];
                            score += t[q][r] * cos[q * m + r];
                        }
                    }
                    String what = dt + " pair (" + i + ", " + j + ")";
                    double[][] ref = sinkhornReference(cost, rv, cv, eps, iters);
                    double[] rowSum = new double[n], colSum = new double[m];
                    for (int q = 0; q < n; q++) {
                        for (int r = 0; r < m; r++) {
                            if (!rv[q] || !cv[r]) assertEquals(0, t[q][r], what + ": masked entries carry no mass");
                            if (dt == DType.F64) assertEquals(ref[q][r], t[q][r], 1e-12, what + " plan at " + q + "," + r);
                            rowSum[q] += t[q][r];
                            colSum[r] += t[q][r];
                        }
                    }
                    double tol = dt == DType.F32 ? 1e-5 : 1e-12;                  // F32: cosines by Sgemm, u and v rounded to F32
                    for (int r = 0; r < m; r++) assertEquals(cv[r] ? 1.0 / cols : 0, colSum[r], tol, what + " column " + r);
                    for (int q = 0; q < n; q++) assertEquals(rv[q] ? 1.0 / rows : 0, rowSum[q], 1e-4, what + " row " + q);
                    assertEquals(score, sc[pair], dt == DType.F32 ? 1e-5 : 1e-12, what + ": the score is sum T cos of that plan");
                }
            }
        }
    }

    @Test
    void sinkhornPlanHandlesEmptyMasksAndChecksArguments() {
        Tensor cost = Tensor.rand(gen, 4, 3);
        Tensor t = Composite.sinkhornPlan(cost, Tensor.zeros(4), null, 0.1, 10);
        assertArrayEquals(new double[12], t.toDoubleArray(), "no valid row: a zero plan, not NaN");
        t = Composite.sinkhornPlan(cost, null, Tensor.of(new float[]{0, 1, 0}, 3), 0.1, 10);
        for (int i = 0; i < 4; i++) assertEquals(0.25, t.get(i, 1), 1e-6, "one valid column takes every row's mass");
        assertThrows(IllegalArgumentException.class, () -> Composite.sinkhornPlan(cost, null, null, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> Composite.sinkhornPlan(cost, null, null, 0.1, 0));
        assertThrows(IllegalArgumentException.class, () -> Composite.sinkhornPlan(cost, Tensor.ones(3), null, 0.1, 5));
    }

    @Test
    void frontEndNamesTheOpAndShapes() {
        Tensor p = unitRows(DType.F32, 2, 5, 4), s = unitRows(DType.F32, 3, 3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.patchSentenceOtScores(p, null, unitRows(DType.F32, 3, 3, 5), null, 0.1, 20));
        assertTrue(e.getMessage().contains("patchSentenceOtScores") && e.getMessage().contains("[2, 5, 4]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.patchSentenceOtScores(p, Tensor.ones(2, 4), s, null, 0.1, 20));
        assertTrue(e.getMessage().contains("mask shape [2, 4]"), e.getMessage());
        Tensor.OtResult ot = Tensor.patchSentenceOt(p, null, s, null, 0.1, 20);
        Tensor u = ot.rowScalings(), v = ot.colScalings();
        assertArrayEquals(new int[]{2, 3, 5}, u.shape());
        assertArrayEquals(new int[]{2, 3, 3}, v.shape());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.patchSentenceOtScoresBackward(Tensor.ones(3, 2), p, null, s, null, u, v, 0.1));
        assertTrue(e.getMessage().contains("gradScores shape [3, 2]"), e.getMessage());
        Tensor g = Tensor.ones(2, 3);
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.patchSentenceOtScoresBackward(g, p, null, s, null, v, v, 0.1));
        assertTrue(e.getMessage().contains("patchSentenceOtScoresBackward: rowScalings shape [2, 3, 3] != (B1, B2, N) = [2, 3, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.patchSentenceOtScoresBackward(g, p, null, s, null, u, u.transpose(0, 1), 0.1));
        assertTrue(e.getMessage().contains("colScalings shape [3, 2, 5] != (B1, B2, M) = [2, 3, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.patchSentenceOtScoresBackward(g, p, null, s, null, null, v, 0.1));
        assertTrue(e.getMessage().contains("rowScalings"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.patchSentenceOtScoresBackward(g, p, null, s, null, u.to(DType.F64), v, 0.1));
        assertThrows(IllegalArgumentException.class, () -> Tensor.patchSentenceOtScoresBackward(g, p, null, s, null, u, v, 0));
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.patchSentenceOt(p, null, s, null, 0.1, 0));
        assertTrue(e.getMessage().contains("patchSentenceOt: iterations"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.patchSentenceOtScores(p, null, s.to(DType.F64), null, 0.1, 20));
        assertThrows(IllegalArgumentException.class, () -> p.topkGather(Tensor.ones(2, 4), 1));
        assertThrows(IllegalArgumentException.class, () -> p.topkGather(Tensor.ones(2, 5), 6));
    }

    // ---------------------------------------------------------------- memory

    /** Bytes allocated so far by every live thread (the pool's workers included). */
    private static long allocatedBytes() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long b : mx.getThreadAllocatedBytes(mx.getAllThreadIds())) sum += Math.max(0, b);
        return sum;
    }

    /**
     * B1 = B2 = 64, N = 144, M = 8, D = 128: one (B1, B2, N, M) F32 tensor is 18.9 MB, and the composite makes
     * dozens. The fused forward may allocate its outputs — the (B1, B2) scores and the scalings (B1, B2, N + M),
     * 2.4 MB — and the masks; backward its two gradients — plus O(threads * N * M) scratch. Bounds are loose
     * (1 MB of slack), never timing.
     */
    @Test
    void fusedPathAllocatesNoPairTensor() {
        int b = 64, n = 144, m = 8, d = 128;
        Tensor p = unitRows(DType.F32, b, n, d), s = unitRows(DType.F32, b, m, d), g = Tensor.randn(gen, b, b);
        Tensor sm = mask(DType.F32, b, m, java.util.stream.IntStream.range(0, b).map(i -> 1 + i % m).toArray());
        for (int warm = 0; warm < 2; warm++) {
            Tensor.OtResult ot = Tensor.patchSentenceOt(p, null, s, sm, 0.1, 20);
            Tensor.patchSentenceOtScoresBackward(g, p, null, s, sm, ot.rowScalings(), ot.colScalings(), 0.1);
        }
        long t0 = System.nanoTime(), a0 = allocatedBytes();
        Tensor.OtResult ot = Tensor.patchSentenceOt(p, null, s, sm, 0.1, 20);
        long t1 = System.nanoTime(), a1 = allocatedBytes();
        Tensor.patchSentenceOtScoresBackward(g, p, null, s, sm, ot.rowScalings(), ot.colScalings(), 0.1);
        long t2 = System.nanoTime(), a2 = allocatedBytes();
        long pairTensor = 4L * b * b * n * m, grads = 4L * (b * n * d + b * m * d), outputs = 4L * b * b * (1 + n + m);
        System.out.printf("OtScoresTest: B1=B2=%d N=%d M=%d D=%d: forward %.1f ms, %d KB; backward %.1f ms, %d KB (one pair tensor: %d KB)%n",
                b, n, m, d, (t1 - t0) / 1e6, (a1 - a0) >> 10, (t2 - t1) / 1e6, (a2 - a1) >> 10, pairTensor >> 10);
        assertTrue(a1 - a0 < outputs + (1 << 20), "forward allocated " + (a1 - a0) + " bytes, scores and scalings are " + outputs);
        assertTrue(a2 - a1 < grads + (1 << 20), "backward allocated " + (a2 - a1) + " bytes, gradients are " + grads);
    }

    // ---------------------------------------------------------------- top-k gather

    @Test
    void topkGatherMatchesCompositeAndScattersBack() {
        for (DType dt : new DType[]{DType.F32, DType.F64, DType.I32}) {
            Tensor x = Tensor.randn(gen, 3, 11, 5).mul(5).to(dt);
            // ties (2.0 twice in image 0) go to the lower index; a NaN ranks highest, as in topk
            Tensor scores = Tensor.of(new float[]{
                    2, 0, 5, 2, -1, 3, 3.5f, 0.5f, 1, 7, -3,
                    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                    Float.NaN, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}, 3, 11);
            Tensor.TopkGather fused = x.transpose(0, 1).contiguous().transpose(0, 1).topkGather(scores, 5);   // a non-contiguous x
            Tensor[] comp = Composite.topkGather(x, scores, 5);
            // the kept set by score ({9, 2, 6, 5, 0}, {10, 9, 8, 7, 6}, {0, 1, 2, 3, 4}), emitted in ascending patch order
            assertArrayEquals(new int[]{0, 2, 5, 6, 9, 6, 7, 8, 9, 10, 0, 1, 2, 3, 4}, fused.indices().toIntArray());
            assertArrayEquals(comp[1].toIntArray(), fused.indices().toIntArray());
            Tolerance.assertClose("topkGather values " + dt, fused.values(), comp[0]);
            Tensor grad = Tensor.randn(gen, 3, 5, 5).mul(5).to(dt);
            Tensor back = Tensor.topkGatherBackward(grad, fused.indices(), 11);
            Tolerance.assertClose("topkGather backward " + dt, back, Composite.topkGatherBackward(grad, fused.indices(), 11));
            Tensor dup = Tensor.of(new int[]{1, 1, 0, 1, 4, 2, 2, 2, 2, 2, 10, 0, 0, 0, 3}, 3, 5);   // repeated rows add up
            Tolerance.assertClose("topkGather backward, repeats " + dt, Tensor.topkGatherBackward(grad, dup, 11),
                    Composite.topkGatherBackward(grad, dup, 11));
            assertEquals(0, x.topkGather(scores, 0).values().numel());
        }
        assertThrows(IllegalArgumentException.class, () -> Tensor.topkGatherBackward(Tensor.ones(1, 1, 2), Tensor.of(new int[]{3}, 1, 1), 3));
    }
}
