package mlip.tensor;

import static mlip.tensor.TestTensors.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * matmul with PyTorch's shape rules against a triple loop. F32 inputs are multiples of 1/64 so every
 * product and partial sum is exact: any blocking, packing or FMA order must give the reference exactly.
 */
class MatmulTest {

    /** (batch..., M, K) @ (batch..., K, N) with both batch shapes already equal; values row-major. */
    static double[] mmRef(double[] a, double[] b, int batch, int m, int k, int n) {
        double[] c = new double[batch * m * n];
        for (int t = 0; t < batch; t++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += a[(t * m + i) * k + p] * b[(t * k + p) * n + j];
                    c[(t * m + i) * n + j] = s;
                }
        return c;
    }

    static double[] values(Random r, DType dt, int n) {
        return dt == DType.F32 ? dyadic(r, n) : randomValues(r, n, dt);
    }

    /** A tensor holding {@code v} (row-major over {@code shape}) as a random layout: contiguous, transposed in its last two dims, or strided. */
    static Tensor layout(Random r, double[] v, DType dt, int[] shape, int kind) {
        int nd = shape.length;
        if (kind == 1 && nd >= 2) { // stored transposed: the last two dims swapped in memory
            int[] ts = shape.clone();
            ts[nd - 1] = shape[nd - 2];
            ts[nd - 2] = shape[nd - 1];
            double[] tv = new double[v.length];
            int[] k = {0};
            int[] ti = new int[nd];
            forEachIndex(shape, idx -> {
                System.arraycopy(idx, 0, ti, 0, nd);
                ti[nd - 1] = idx[nd - 2];
                ti[nd - 2] = idx[nd - 1];
                tv[ravel(ti, ts)] = v[k[0]++];
            });
            return tensor(tv, dt, ts).transpose(-1, -2);
        }
        Tensor x = tensor(v, dt, shape);
        return kind == 2 ? nonContiguous(r, x) : x;
    }

    @Test
    void twoD() {
        Random r = rng(41);
        int[][] sizes = {{1, 1, 1}, {1, 7, 1}, {3, 5, 4}, {16, 16, 16}, {17, 33, 15}, {6, 64, 32}, {37, 9, 70}, {64, 100, 3}, {2, 300, 2}, {130, 70, 150}, {100, 520, 97}};
        for (DType dt : FLOATING) {
            for (int[] mkn : sizes) {
                int m = mkn[0], k = mkn[1], n = mkn[2];
                double[] a = values(r, dt, m * k), b = values(r, dt, k * n);
                double[] expect = mmRef(a, b, 1, m, k, n);
                for (int ka = 0; ka < 3; ka++) {
                    for (int kb = 0; kb < 3; kb++) {
                        if (m * k * n > 20_000 && (ka + kb) % 2 == 1) continue; // keep the big case quick
                        Tensor y = layout(r, a, dt, new int[]{m, k}, ka).matmul(layout(r, b, dt, new int[]{k, n}, kb));
                        assertEquals(dt, y.dtype());
                        assertValues("matmul " + dt + " " + Arrays.toString(mkn) + " layouts " + ka + "," + kb, y, expect, m, n);
                    }
                }
            }
        }
    }

    @Test
    void batchedAndBroadcastBatchDims() {
        Random r = rng(42);
        int[][][] cases = {
                {{2, 3, 4}, {2, 4, 5}},
                {{3, 1, 4, 6}, {2, 6, 3}},      // (3, 1) x (2) -> (3, 2)
                {{5, 7}, {4, 7, 2}},            // 2-d @ 3-d: a broadcast over the batch
                {{4, 3, 7}, {7, 2}},            // 3-d @ 2-d
                {{2, 1, 3, 17, 9}, {4, 1, 9, 20}},
                {{1, 5, 8}, {3, 8, 1}},
        };
        for (DType dt : FLOATING) {
            for (int[][] c : cases) {
                int[] as = c[0], bs = c[1];
                int m = as[as.length - 2], k = as[as.length - 1], n = bs[bs.length - 1];
                int[] batch = broadcastShape(Arrays.copyOf(as, as.length - 2), Arrays.copyOf(bs, bs.length - 2));
                double[] a = values(r, dt, numel(as)), b = values(r, dt, numel(bs));
                int[] fullA = Arrays.copyOf(batch, batch.length + 2), fullB = Arrays.copyOf(batch, batch.length + 2);
                fullA[batch.length] = m;
                fullA[batch.length + 1] = k;
                fullB[batch.length] = k;
                fullB[batch.length + 1] = n;
                double[] expect = mmRef(broadcastRef(a, as, fullA), broadcastRef(b, bs, fullB), numel(batch), m, k, n);
                int[] os = Arrays.copyOf(batch, batch.length + 2);
                os[batch.length] = m;
                os[batch.length + 1] = n;
                for (int kind = 0; kind < 3; kind++) {
                    Tensor y = layout(r, a, dt, as, kind).matmul(layout(r, b, dt, bs, (kind + 1) % 3));
                    assertValues("matmul " + dt + " " + s(as) + " @ " + s(bs) + " kind " + kind, y, expect, os);
                }
                // a permuted batch: store a as (M, B..., K) and permute into place
                if (as.length == 3) {
                    int[] ps = {m, as[0], k};
                    double[] pv = new double[a.length];
                    for (int t = 0; t < as[0]; t++) for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) pv[(i * as[0] + t) * k + p] = a[(t * m + i) * k + p];
                    Tensor ap = tensor(pv, dt, ps).permute(1, 0, 2);
                    assertValues("permuted batch " + dt + " " + s(as), ap.matmul(tensor(b, dt, bs)), expect, os);
                }
            }
            // bmm is the strict 3-d form
            double[] a = values(r, dt, 2 * 3 * 4), b = values(r, dt, 2 * 4 * 5);
            assertValues("bmm " + dt, tensor(a, dt, 2, 3, 4).bmm(tensor(b, dt, 2, 4, 5)), mmRef(a, b, 2, 3, 4, 5), 2, 3, 5);
        }
    }

    @Test
    void oneDimensionalOperands() {
        Random r = rng(43);
        for (DType dt : FLOATING) {
            int k = 19, m = 5, n = 6, bt = 3;
            double[] u = values(r, dt, k), w = values(r, dt, k), a = values(r, dt, m * k), b = values(r, dt, k * n), ab = values(r, dt, bt * k * n),
                    am = values(r, dt, bt * m * k);
            Tensor tu = maybeNonContiguous(r, tensor(u, dt, k));
            double dot = 0;
            for (int i = 0; i < k; i++) dot += u[i] * w[i];
            Tensor d = tu.matmul(tensor(w, dt, k));
            assertEquals(0, d.ndim(), "vector . vector is 0-d");
            assertValues("dot " + dt, d, new double[]{dot});
            assertValues("vec @ mat " + dt, tu.matmul(layout(r, b, dt, new int[]{k, n}, 1)), mmRef(u, b, 1, 1, k, n), n);
            assertValues("mat @ vec " + dt, layout(r, a, dt, new int[]{m, k}, 2).matmul(tu), mmRef(a, u, 1, m, k, 1), m);
            double[] e1 = new double[bt * n];
            for (int t = 0; t < bt; t++) System.arraycopy(mmRef(u, Arrays.copyOfRange(ab, t * k * n, (t + 1) * k * n), 1, 1, k, n), 0, e1, t * n, n);
            assertValues("vec @ batched " + dt, tu.matmul(tensor(ab, dt, bt, k, n)), e1, bt, n);
            assertValues("batched @ vec " + dt, tensor(am, dt, bt, m, k).matmul(tu), mmRef(am, broadcastRef(u, new int[]{1, k, 1}, new int[]{bt, k, 1}), bt, m, k, 1), bt, m);
        }
    }

    @Test
    void expandedOperandsAndZeroSizes() {
        Random r = rng(44);
        for (DType dt : FLOATING) {
            int m = 9, k = 21, n = 18;
            double[] row = values(r, dt, k), b = values(r, dt, k * n);
            Tensor a = tensor(row, dt, 1, k).expand(m, k); // stride 0 over M
            assertValues("expanded a " + dt, a.matmul(tensor(b, dt, k, n)), mmRef(broadcastRef(row, new int[]{1, k}, new int[]{m, k}), b, 1, m, k, n), m, n);
            double[] col = values(r, dt, k);
            Tensor bb = tensor(col, dt, k, 1).expand(k, n); // stride 0 over N
            double[] av = values(r, dt, m * k);
            assertValues("expanded b " + dt, tensor(av, dt, m, k).matmul(bb), mmRef(av, broadcastRef(col, new int[]{k, 1}, new int[]{k, n}), 1, m, k, n), m, n);

            assertValues("K = 0 gives zeros " + dt, Tensor.zeros(dt, 3, 0).matmul(Tensor.zeros(dt, 0, 4)), new double[12], 3, 4);
            Tensor nanK = Tensor.full(dt, Device.CPU, 5, 4, 0).matmul(Tensor.full(dt, Device.CPU, 5, 0, 2));
            assertValues("K = 0 " + dt, nanK, new double[8], 4, 2);
            assertArrayEquals(new int[]{0, 4}, Tensor.zeros(dt, 0, 3).matmul(Tensor.zeros(dt, 3, 4)).shape());
            assertArrayEquals(new int[]{3, 0}, Tensor.zeros(dt, 3, 5).matmul(Tensor.zeros(dt, 5, 0)).shape());
            assertArrayEquals(new int[]{0, 3, 4}, Tensor.zeros(dt, 0, 3, 2).matmul(Tensor.zeros(dt, 2, 4)).shape());
            assertEquals(0, Tensor.zeros(dt, 0).matmul(Tensor.zeros(dt, 0)).item(), "empty dot is 0");
        }
    }

    @Test
    void shapeAndDtypeErrors() {
        assertIAE(() -> Tensor.zeros(2, 3).matmul(Tensor.zeros(4, 5)), "matmul", "[2, 3]", "[4, 5]");
        assertIAE(() -> Tensor.zeros(3).matmul(Tensor.zeros(4)), "matmul", "[3]", "[4]");
        assertIAE(() -> Tensor.zeros(2, 3, 4).matmul(Tensor.zeros(3, 4, 5)), "matmul", "broadcast"); // full-shape message: ErrorsTest
        assertIAE(() -> Tensor.scalar(1).matmul(Tensor.zeros(3)), "matmul", "0-d");
        assertIAE(() -> Tensor.zeros(2, 3).matmul(Tensor.zeros(DType.F64, 3, 2)), "matmul", "F32", "F64");
        assertIAE(() -> Tensor.zeros(DType.I32, 2, 3).matmul(Tensor.zeros(DType.I32, 3, 2)), "matmul", "I32");
        assertIAE(() -> Tensor.zeros(2, 3, 4).bmm(Tensor.zeros(3, 4, 5)), "bmm", "[2, 3, 4]", "[3, 4, 5]");
        assertIAE(() -> Tensor.zeros(3, 4).bmm(Tensor.zeros(4, 5)), "bmm");
    }
}
