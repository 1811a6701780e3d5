package mlip.tensor;

import static mlip.tensor.TestTensors.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** gather, indexSelect, scatterAdd, embedding, cat/stack and topk against index loops. */
class IndexingTest {

    static double[] indices(Random r, int n, int bound) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextInt(bound);
        return v;
    }

    // ---------------------------------------------------------------- gather / scatterAdd

    @Test
    void gatherAlongEveryDim() {
        Random r = rng(51);
        for (int t = 0; t < 120; t++) {
            DType dt = ALL[t % 3];
            int nd = 1 + r.nextInt(4);
            int[] xs = randomShape(r, nd, 1, 5);
            int dim = r.nextInt(nd);
            int[] is = new int[nd];
            for (int i = 0; i < nd; i++) is[i] = i == dim ? r.nextInt(7) : 1 + r.nextInt(xs[i]);
            if (t % 17 == 0) is[r.nextInt(nd)] = 0; // an empty index
            double[] xv = randomValues(r, numel(xs), dt), iv = indices(r, numel(is), xs[dim]);
            Tensor x = maybeNonContiguous(r, tensor(xv, dt, xs)), index = maybeNonContiguous(r, tensor(iv, DType.I32, is));
            double[] expect = new double[iv.length];
            int[] xi = new int[nd];
            int[] k = {0};
            forEachIndex(is, idx -> {
                System.arraycopy(idx, 0, xi, 0, nd);
                xi[dim] = (int) iv[k[0]];
                expect[k[0]++] = xv[ravel(xi, xs)];
            });
            Tensor y = x.gather(r.nextBoolean() ? dim : dim - nd, index);
            assertEquals(dt, y.dtype());
            assertValues("gather " + dt + " " + s(xs) + " dim " + dim + " index " + s(is), y, expect, is);
        }
    }

    @Test
    void scatterAddAccumulatesRepeatedIndices() {
        Random r = rng(52);
        for (int t = 0; t < 120; t++) {
            DType dt = ALL[t % 3];
            int nd = 1 + r.nextInt(3);
            int[] xs = randomShape(r, nd, 1, 5);
            int dim = r.nextInt(nd);
            int[] is = new int[nd], ss = new int[nd];
            for (int i = 0; i < nd; i++) {
                is[i] = i == dim ? 1 + r.nextInt(8) : 1 + r.nextInt(xs[i]); // more index entries than slots: repeats
                ss[i] = is[i] + r.nextInt(2); // src may be larger than index
            }
            double[] xv = dt == DType.F32 ? dyadic(r, numel(xs)) : randomValues(r, numel(xs), dt);
            double[] sv = dt == DType.F32 ? dyadic(r, numel(ss)) : randomValues(r, numel(ss), dt);
            double[] iv = indices(r, numel(is), xs[dim]);
            Tensor x = maybeNonContiguous(r, tensor(xv, dt, xs));
            Tensor src = maybeNonContiguous(r, tensor(sv, dt, ss));
            Tensor index = maybeNonContiguous(r, tensor(iv, DType.I32, is));
            double[] expect = xv.clone();
            int[] xi = new int[nd];
            int[] k = {0};
            forEachIndex(is, idx -> {
                System.arraycopy(idx, 0, xi, 0, nd);
                xi[dim] = (int) iv[k[0]++];
                expect[ravel(xi, xs)] += sv[ravel(idx, ss)];
            });
            double[] before = x.toDoubleArray();
            Tensor y = x.scatterAdd(dim, index, src);
            assertValues("scatterAdd " + dt + " " + s(xs) + " dim " + dim + " index " + s(is) + " src " + s(ss), y, expect, xs);
            assertArrayEquals(before, x.toDoubleArray(), 0.0, "scatterAdd does not modify its input");
        }
        // all to one slot
        Tensor acc = Tensor.zeros(3).scatterAdd(0, Tensor.of(new int[]{1, 1, 1, 1}, 4), Tensor.of(new float[]{1, 2, 3, 4}, 4));
        assertArrayEquals(new double[]{0, 10, 0}, acc.toDoubleArray());
    }

    // ---------------------------------------------------------------- indexSelect / embedding

    @Test
    void indexSelectAlongEveryDim() {
        Random r = rng(53);
        for (int t = 0; t < 90; t++) {
            DType dt = ALL[t % 3];
            int nd = 1 + r.nextInt(4);
            int[] xs = randomShape(r, nd, 1, 5);
            int dim = r.nextInt(nd);
            int len = t % 15 == 0 ? 0 : r.nextInt(8);
            double[] xv = randomValues(r, numel(xs), dt), iv = indices(r, len, xs[dim]);
            Tensor x = maybeNonContiguous(r, tensor(xv, dt, xs));
            Tensor index = maybeNonContiguous(r, tensor(iv, DType.I32, len));
            int[] os = xs.clone();
            os[dim] = len;
            double[] expect = new double[numel(os)];
            int[] xi = new int[nd];
            int[] k = {0};
            forEachIndex(os, idx -> {
                System.arraycopy(idx, 0, xi, 0, nd);
                xi[dim] = (int) iv[idx[dim]];
                expect[k[0]++] = xv[ravel(xi, xs)];
            });
            assertValues("indexSelect " + dt + " " + s(xs) + " dim " + dim + " len " + len, x.indexSelect(dim - (r.nextBoolean() ? nd : 0), index), expect, os);
        }
        assertIAE(() -> Tensor.zeros(3, 4).indexSelect(0, Tensor.zeros(DType.I32, 2, 2)), "indexSelect", "1-d", "[2, 2]");
        assertIAE(() -> Tensor.zeros(3, 4).indexSelect(0, Tensor.zeros(2)), "indexSelect", "I32");
    }

    @Test
    void embeddingPicksRows() {
        Random r = rng(54);
        for (DType dt : FLOATING) {
            int v = 11, d = 6;
            double[] w = randomValues(r, v * d, dt);
            Tensor weight = maybeNonContiguous(r, tensor(w, dt, v, d));
            for (int[] ids : new int[][]{{}, {0}, {4}, {2, 3}, {2, 0}, {3, 1, 5}}) {
                double[] iv = indices(r, numel(ids), v);
                Tensor y = Tensor.embedding(weight, maybeNonContiguous(r, tensor(iv, DType.I32, ids)));
                int[] os = Arrays.copyOf(ids, ids.length + 1);
                os[ids.length] = d;
                double[] expect = new double[numel(os)];
                for (int i = 0; i < iv.length; i++) System.arraycopy(w, (int) iv[i] * d, expect, i * d, d);
                assertValues("embedding " + dt + " ids " + s(ids), y, expect, os);
            }
        }
        assertIAE(() -> Tensor.embedding(Tensor.zeros(5), Tensor.arange(2)), "embedding", "[5]");
        assertIAE(() -> Tensor.embedding(Tensor.zeros(5, 2), Tensor.zeros(2)), "embedding", "I32");
    }

    @Test
    void outOfRangeIndicesAreErrors() {
        Tensor x = Tensor.zeros(3, 5);
        assertIAE(() -> x.gather(1, Tensor.of(new int[]{0, 5}, 1, 2)), "gather", "5", "out of range");
        assertIAE(() -> x.gather(0, Tensor.of(new int[]{-1}, 1, 1)), "gather", "-1", "out of range");
        assertIAE(() -> x.indexSelect(0, Tensor.of(new int[]{0, 3}, 2)), "indexSelect", "3", "out of range");
        assertIAE(() -> x.indexSelect(1, Tensor.of(new int[]{-1}, 1)), "indexSelect", "-1", "out of range");
        assertIAE(() -> x.scatterAdd(0, Tensor.of(new int[]{3}, 1, 1), Tensor.zeros(1, 1)), "scatterAdd", "3", "out of range");
        assertIAE(() -> Tensor.embedding(x, Tensor.of(new int[]{1, 3}, 2)), "3", "out of range");
        assertIAE(() -> x.gather(0, Tensor.zeros(DType.I32, 2, 6)), "gather", "[2, 6]", "[3, 5]");
        assertIAE(() -> x.gather(0, Tensor.zeros(DType.I32, 2)), "gather", "[2]", "[3, 5]");
        assertIAE(() -> x.gather(0, Tensor.zeros(2, 2)), "gather", "I32");
        assertIAE(() -> x.scatterAdd(0, Tensor.zeros(DType.I32, 2, 2), Tensor.zeros(1, 2)), "scatterAdd", "[2, 2]", "[1, 2]");
        assertIAE(() -> x.scatterAdd(0, Tensor.zeros(DType.I32, 2, 2), Tensor.zeros(DType.F64, 2, 2)), "scatterAdd", "F64");
    }

    // ---------------------------------------------------------------- cat / stack

    @Test
    void catAndStackIncludingNonContiguousAndEmptyPieces() {
        Random r = rng(55);
        for (int t = 0; t < 80; t++) {
            DType dt = ALL[t % 3];
            int nd = 1 + r.nextInt(4);
            int[] base = randomShape(r, nd, 1, 4);
            int dim = r.nextInt(nd);
            int pieces = 1 + r.nextInt(4);
            Tensor[] xs = new Tensor[pieces];
            double[][] vs = new double[pieces][];
            int[][] shapes = new int[pieces][];
            int total = 0;
            for (int p = 0; p < pieces; p++) {
                shapes[p] = base.clone();
                shapes[p][dim] = r.nextInt(4); // may be 0
                total += shapes[p][dim];
                vs[p] = randomValues(r, numel(shapes[p]), dt);
                xs[p] = maybeNonContiguous(r, tensor(vs[p], dt, shapes[p]));
            }
            int[] os = base.clone();
            os[dim] = total;
            double[] expect = new double[numel(os)];
            int[] k = {0};
            forEachIndex(os, idx -> {
                int at = idx[dim], p = 0;
                while (at >= shapes[p][dim]) at -= shapes[p++][dim];
                int[] pi = idx.clone();
                pi[dim] = at;
                expect[k[0]++] = vs[p][ravel(pi, shapes[p])];
            });
            Tensor y = Tensor.cat(r.nextBoolean() ? dim : dim - nd, xs);
            assertEquals(dt, y.dtype());
            assertValues("cat " + dt + " dim " + dim + " pieces " + Arrays.deepToString(shapes), y, expect, os);

            // stack: equal shapes along a new dim
            int sd = r.nextInt(nd + 1);
            Tensor[] st = new Tensor[pieces];
            double[][] sv = new double[pieces][];
            for (int p = 0; p < pieces; p++) {
                sv[p] = randomValues(r, numel(base), dt);
                st[p] = maybeNonContiguous(r, tensor(sv[p], dt, base));
            }
            int[] ss = new int[nd + 1];
            for (int i = 0, j = 0; i <= nd; i++) ss[i] = i == sd ? pieces : base[j++];
            double[] se = new double[numel(ss)];
            int[] k2 = {0};
            int[] bi = new int[nd];
            forEachIndex(ss, idx -> {
                for (int i = 0, j = 0; i <= nd; i++) if (i != sd) bi[j++] = idx[i];
                se[k2[0]++] = sv[idx[sd]][ravel(bi, base)];
            });
            assertValues("stack " + dt + " dim " + sd + " of " + pieces + " x " + s(base), Tensor.stack(sd, st), se, ss);
        }
        Tensor a = Tensor.zeros(2, 3), b = Tensor.zeros(2, 4);
        assertArrayEquals(new int[]{2, 7}, Tensor.cat(1, a, b).shape());
        assertIAE(() -> Tensor.cat(0, a, b), "cat", "[2, 3]", "[2, 4]");
        assertIAE(() -> Tensor.cat(0, a, Tensor.zeros(2)), "cat", "[2, 3]", "[2]");
        assertIAE(() -> Tensor.cat(0, a, Tensor.zeros(DType.F64, 2, 3)), "cat", "F64");
        assertIAE(() -> Tensor.cat(0), "cat");
        assertIAE(() -> Tensor.stack(0, a, b), "stack", "[2, 3]", "[2, 4]");
        assertArrayEquals(new int[]{2, 3, 2}, Tensor.stack(-1, a, a).shape());
    }

    // ---------------------------------------------------------------- topk

    /** Indices of a row sorted by (value, index): largest first (NaN the largest) or smallest first (NaN last); ties keep index order. */
    static Integer[] sortedRow(double[] row, boolean largest) {
        Integer[] o = new Integer[row.length];
        for (int i = 0; i < o.length; i++) o[i] = i;
        Comparator<Integer> byValue = (p, q) -> {
            double a = row[p], b = row[q];
            boolean na = Double.isNaN(a), nb = Double.isNaN(b);
            if (na || nb) return na == nb ? 0 : largest ? (na ? -1 : 1) : (na ? 1 : -1);
            int asc = a < b ? -1 : a > b ? 1 : 0;
            return largest ? -asc : asc;
        };
        Arrays.sort(o, byValue.thenComparing(i -> i));
        return o;
    }

    @Test
    void topkLargestAndSmallestWithTiesAlongAnyDim() {
        Random r = rng(56);
        for (int t = 0; t < 150; t++) {
            DType dt = ALL[t % 3];
            int nd = t == 7 ? 2 : 1 + r.nextInt(3);
            int[] xs = t == 7 ? new int[]{3, 2000} : randomShape(r, nd, 1, 7); // t == 7: a long row
            int dim = r.nextInt(nd);
            int n = xs[dim];
            int k = t % 10 == 0 ? 0 : t % 10 == 1 ? n : r.nextInt(n + 1);
            boolean largest = r.nextBoolean();
            double[] xv = new double[numel(xs)];
            for (int i = 0; i < xv.length; i++) xv[i] = dt == DType.I32 ? r.nextInt(5) : (r.nextInt(5) - 2) * 0.5; // many ties
            if (dt != DType.I32 && t % 6 == 0) xv[r.nextInt(xv.length)] = Double.NaN;
            Tensor x = maybeNonContiguous(r, tensor(xv, dt, xs));
            int[] os = xs.clone();
            os[dim] = k;
            double[] ev = new double[numel(os)], ei = new double[numel(os)];
            int[] xi = new int[nd];
            forEachIndex(os, idx -> {
                double[] row = new double[n];
                System.arraycopy(idx, 0, xi, 0, nd);
                for (int j = 0; j < n; j++) {
                    xi[dim] = j;
                    row[j] = xv[ravel(xi, xs)];
                }
                Integer[] order = sortedRow(row, largest);
                int o = ravel(idx, os);
                ei[o] = order[idx[dim]];
                ev[o] = row[order[idx[dim]]];
            });
            Tensor.TopK top = x.topk(k, r.nextBoolean() ? dim : dim - nd, largest);
            String what = "topk k=" + k + " " + (largest ? "largest" : "smallest") + " " + dt + " " + s(xs) + " dim " + dim;
            assertEquals(dt, top.values().dtype());
            assertEquals(DType.I32, top.indices().dtype());
            assertValues(what + " values", top.values(), ev, os);
            assertValues(what + " indices", top.indices(), ei, os);
        }
        Tensor x = Tensor.of(new float[]{1, 5, 5, 2, 5, 1}, 6);
        assertArrayEquals(new int[]{1, 2, 4}, x.topk(3, 0, true).indices().toIntArray());
        assertArrayEquals(new int[]{0, 5, 3}, x.topk(3, 0, false).indices().toIntArray());
        assertIAE(() -> x.topk(7, 0, true), "topk", "7", "[6]");
        assertIAE(() -> x.topk(-1, 0, true), "topk", "[6]");
        assertArrayEquals(new int[]{0}, Tensor.zeros(0).topk(0, 0, true).values().shape());
    }
}
