package mlip.tensor;

import static mlip.tensor.TestTensors.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Views share storage and read the right elements; reshape/view follow PyTorch's rules; contiguous copies only when needed. */
class ViewsTest {

    @Test
    void helpersBuildNonContiguousViewsOfTheSameValues() {
        selfCheck();
        Random r = rng(11);
        for (int t = 0; t < 50; t++) {
            int[] shape = randomShape(r, r.nextInt(5), 0, 4);
            for (DType dt : ALL) {
                Tensor x = random(r, dt, shape);
                Tensor v = nonContiguous(r, x);
                assertArrayEquals(x.toDoubleArray(), rawValues(v), 0.0, "raw values " + s(shape));
                assertArrayEquals(x.toDoubleArray(), v.toDoubleArray(), 0.0, "toDoubleArray of a view " + s(shape));
                if (numel(shape) > 1) assertFalse(v.isContiguous(), "non-contiguous " + s(shape));
            }
        }
    }

    // ---------------------------------------------------------------- view / reshape

    /** Brute force: strides that make {@code newShape} address exactly the row-major elements of {@code x}, or null when none exist. */
    static int[] viewOracle(Tensor x, int[] newShape) {
        int n = numel(newShape);
        int[] offs = new int[n];
        int[] k = {0};
        int[] st = x.strides();
        forEachIndex(x.shape(), idx -> {
            int at = x.offset();
            for (int i = 0; i < idx.length; i++) at += idx[i] * st[i];
            offs[k[0]++] = at;
        });
        if (n == 0) return rowMajorStrides(newShape);
        int[] cs = rowMajorStrides(newShape);
        int[] out = new int[newShape.length];
        for (int j = 0; j < newShape.length; j++) out[j] = newShape[j] > 1 ? offs[cs[j]] - offs[0] : -1;
        int[] kk = {0};
        boolean[] ok = {true};
        forEachIndex(newShape, idx -> {
            int at = offs[0];
            for (int j = 0; j < idx.length; j++) if (newShape[j] > 1) at += idx[j] * out[j];
            if (at != offs[kk[0]++]) ok[0] = false;
        });
        return ok[0] ? out : null;
    }

    /** Random shapes with the same element count as {@code shape}, by splitting and merging factors. */
    static int[] randomTargetShape(Random r, int n) {
        List<Integer> f = new ArrayList<>();
        int m = n;
        for (int p = 2; p <= m; p++) {
            while (m % p == 0) {
                f.add(p);
                m /= p;
            }
        }
        List<Integer> dims = new ArrayList<>();
        for (int v : f) {
            if (!dims.isEmpty() && r.nextBoolean()) dims.set(dims.size() - 1, dims.get(dims.size() - 1) * v);
            else dims.add(v);
        }
        for (int i = 0; i < r.nextInt(3); i++) dims.add(r.nextInt(dims.size() + 1), 1);
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void viewSucceedsExactlyWhenTheLayoutAllowsAndReshapeAlwaysGivesRowMajorValues() {
        Random r = rng(12);
        int views = 0, copies = 0;
        for (int t = 0; t < 400; t++) {
            int[] shape = randomShape(r, 1 + r.nextInt(4), 1, 4);
            Tensor base = random(r, DType.F32, shape);
            int nd = shape.length, d = r.nextInt(nd);
            int start = r.nextInt(shape[d]);
            int[] small = shape.clone();
            small[d] = 1;
            Tensor x = switch (t % 4) {
                case 0 -> nonContiguous(r, base);
                case 1 -> base.permute(randomPermutation(r, nd));
                case 2 -> base.narrow(d, start, 1 + r.nextInt(shape[d] - start));
                default -> random(r, DType.F32, small).expand(shape).permute(randomPermutation(r, nd)); // stride-0 dims
            };
            double[] vals = rawValues(x);
            int[] target = numel(x.shape()) == 0 ? new int[]{0} : randomTargetShape(r, numel(x.shape()));
            int[] oracle = viewOracle(x, target);
            String what = "view " + s(x.shape()) + " strides " + s(x.strides()) + " -> " + s(target);
            if (oracle != null) {
                Tensor v = x.view(target);
                views++;
                assertSame(x.storage(), v.storage(), what + " shares storage");
                assertArrayEquals(target, v.shape(), what);
                assertArrayEquals(vals, rawValues(v), 0.0, what);
            } else {
                copies++;
                assertIAE(() -> x.view(target), "view", s(target));
            }
            Tensor rs = x.reshape(target);
            assertArrayEquals(vals, rawValues(rs), 0.0, "reshape " + what);
            if (oracle != null) assertSame(x.storage(), rs.storage(), "reshape is a view when possible: " + what);
            else assertNotSame(x.storage(), rs.storage(), "reshape copies when needed: " + what);
        }
        assertTrue(views > 50 && copies > 50, "both outcomes exercised: " + views + " views, " + copies + " copies");
    }

    @Test
    void viewFollowsPyTorchOnKnownLayouts() {
        Tensor x = Tensor.arange(0, 24, 1, DType.F32).view(2, 3, 4);
        Tensor xt = x.transpose(0, 1); // (3, 2, 4) strides (4, 12, 1)
        assertIAE(() -> xt.view(3, 8), "view");
        assertIAE(() -> xt.view(6, 4), "view");
        assertIAE(() -> xt.view(-1), "view");
        Tensor split = xt.view(3, 2, 2, 2); // splitting the contiguous last dim works
        assertArrayEquals(new int[]{4, 12, 2, 1}, split.strides());
        assertArrayEquals(rawValues(xt), rawValues(split), 0.0);
        Tensor n = Tensor.arange(0, 24, 1, DType.F32).view(4, 6).narrow(1, 0, 4); // (4, 4) strides (6, 1)
        assertArrayEquals(new int[]{12, 6, 1}, n.view(2, 2, 4).strides());
        assertArrayEquals(new int[]{6, 2, 1}, n.view(4, 2, 2).strides());
        assertIAE(() -> n.view(16), "view");
        assertIAE(() -> n.view(8, 2), "view");
        Tensor e = Tensor.arange(0, 3, 1, DType.F32).view(3, 1).expand(3, 4); // strides (1, 0)
        assertArrayEquals(new int[]{1, 0, 0}, e.view(3, 2, 2).strides());
        assertIAE(() -> e.view(12), "view");
        // size-1 dims can be added or removed anywhere, even on a transposed tensor
        Tensor tt = Tensor.arange(0, 6, 1, DType.F32).view(2, 3).t();
        Tensor u = tt.view(1, 3, 1, 2, 1);
        assertArrayEquals(rawValues(tt), rawValues(u), 0.0);
        assertArrayEquals(new int[]{3, 2}, u.view(3, 2).shape());
        // -1 inference
        assertArrayEquals(new int[]{2, 12}, x.view(2, -1).shape());
        assertArrayEquals(new int[]{4, 3, 2}, x.reshape(4, -1, 2).shape());
        assertIAE(() -> x.view(-1, -1), "view", "-1");
        assertIAE(() -> x.view(5, -1), "view", "-1");
        assertIAE(() -> x.view(5, 5), "view", "[5, 5]", "[2, 3, 4]");
        assertIAE(() -> x.reshape(7), "reshape", "[7]", "[2, 3, 4]");
        assertIAE(() -> x.view(2, -3, 4), "view");
    }

    @Test
    void zeroSizeAndScalarShapes() {
        Tensor z = Tensor.zeros(3, 0);
        assertEquals(0, z.numel());
        assertArrayEquals(new int[]{0}, z.view(-1).shape());
        assertArrayEquals(new int[]{0, 7}, z.reshape(0, 7).shape());
        assertArrayEquals(new int[]{0, 3}, z.t().reshape(0, 3).shape());
        assertArrayEquals(new int[]{3, 0}, z.contiguous().shape());
        assertIAE(() -> z.view(-1, 0), "view", "-1");
        assertEquals(0, z.toDoubleArray().length);
        Tensor e = Tensor.zeros(0);
        assertArrayEquals(new int[]{1, 0}, e.unsqueeze(0).shape());
        assertArrayEquals(new int[]{0, 5}, e.unsqueeze(1).expand(0, 5).shape());

        Tensor s = Tensor.scalar(3.5);
        assertEquals(0, s.ndim());
        assertEquals(1, s.numel());
        assertEquals(3.5, s.item());
        assertEquals(3.5, s.get());
        assertArrayEquals(new int[]{1}, s.view(-1).shape());
        assertArrayEquals(new int[]{1, 1}, s.reshape(1, 1).shape());
        assertArrayEquals(new int[0], s.reshape(1, 1).view().shape());
        assertArrayEquals(new int[]{1}, s.unsqueeze(0).shape());
        assertArrayEquals(new int[]{4, 2}, s.expand(4, 2).shape());
        assertArrayEquals(new double[]{3.5, 3.5, 3.5}, s.expand(3).toDoubleArray());
        assertTrue(s.isContiguous());
        assertSame(s, s.contiguous());
        assertArrayEquals(new int[0], s.unsqueeze(0).squeeze().shape());
    }

    /**
     * An empty view may sit at an offset past its (empty) storage: select/narrow of a tensor with a zero-size
     * dim give one. PyTorch reads such views as empty; the engine must not index the storage.
     */
    @Test
    void emptyViewsAtAnOffsetPastTheStorageAreReadable() {
        Tensor sel = Tensor.zeros(3, 0).select(0, 2); // shape [0], offset 2, storage of 0 elements
        assertArrayEquals(new int[]{0}, sel.shape());
        assertEquals(0, sel.toDoubleArray().length);
        assertEquals(0, sel.toFloatArray().length);
        Tensor nar = Tensor.zeros(DType.I32, 2, 3, 0).narrow(0, 1, 1); // shape [1, 3, 0], offset 3
        assertEquals(0, nar.toIntArray().length);
        assertEquals(0, nar.add(nar).numel());
        assertArrayEquals(new int[]{1, 3}, nar.sum(2, false).shape());
        assertArrayEquals(new double[]{0, 0, 0}, nar.sum(2, false).toDoubleArray());
    }

    // ---------------------------------------------------------------- permute / transpose / t / narrow / select / expand

    @Test
    void permuteTransposeAndTReadTheRightElements() {
        Random r = rng(13);
        for (int t = 0; t < 60; t++) {
            int nd = 1 + r.nextInt(4);
            int[] shape = randomShape(r, nd, 0, 4);
            Tensor x = maybeNonContiguous(r, random(r, DType.F64, shape));
            double[] xv = rawValues(x);
            int[] p = randomPermutation(r, nd);
            if (r.nextBoolean()) for (int i = 0; i < nd; i++) if (r.nextBoolean()) p[i] -= nd; // negative dims
            Tensor y = x.permute(p);
            int[] pn = new int[nd];
            for (int i = 0; i < nd; i++) pn[i] = (p[i] + nd) % nd;
            int[] ys = new int[nd];
            for (int i = 0; i < nd; i++) ys[i] = shape[pn[i]];
            assertArrayEquals(ys, y.shape());
            assertSame(x.storage(), y.storage());
            int[] xi = new int[nd];
            forEachIndex(ys, idx -> {
                for (int i = 0; i < nd; i++) xi[pn[i]] = idx[i];
                assertEquals(xv[ravel(xi, shape)], rawGet(y, idx), "permute " + Arrays.toString(p));
            });
            assertArrayEquals(refValuesOfTransposed(xv, shape, pn), y.toDoubleArray(), 0.0, "copy of a permuted view");

            int a = r.nextInt(nd), b = r.nextInt(nd);
            Tensor tr = x.transpose(a, b - nd);
            int[] swap = new int[nd];
            for (int i = 0; i < nd; i++) swap[i] = i;
            swap[a] = b;
            swap[b] = a;
            assertArrayEquals(refValuesOfTransposed(xv, shape, swap), rawValues(tr), 0.0, "transpose " + a + "," + b);
            assertSame(x.storage(), tr.storage());
        }
        Tensor m = Tensor.of(new double[]{1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new double[]{1, 4, 2, 5, 3, 6}, m.t().toDoubleArray());
        assertArrayEquals(new int[]{1, 3}, m.t().strides());
        assertIAE(() -> Tensor.zeros(2, 3, 4).t(), "t", "[2, 3, 4]");
        assertIAE(() -> m.permute(0, 0), "permute", "repeated");
        assertIAE(() -> m.permute(0), "permute", "[2, 3]");
        assertIAE(() -> m.permute(0, 2), "permute", "out of range");
    }

    private static double[] refValuesOfTransposed(double[] xv, int[] shape, int[] pn) {
        int nd = shape.length;
        int[] ys = new int[nd];
        for (int i = 0; i < nd; i++) ys[i] = shape[pn[i]];
        double[] out = new double[xv.length];
        int[] k = {0};
        int[] xi = new int[nd];
        forEachIndex(ys, idx -> {
            for (int i = 0; i < nd; i++) xi[pn[i]] = idx[i];
            out[k[0]++] = xv[ravel(xi, shape)];
        });
        return out;
    }

    @Test
    void narrowAndSelect() {
        Random r = rng(14);
        for (int t = 0; t < 60; t++) {
            int nd = 1 + r.nextInt(4);
            int[] shape = randomShape(r, nd, 1, 5);
            Tensor x = maybeNonContiguous(r, random(r, DType.F32, shape));
            double[] xv = rawValues(x);
            int d = r.nextInt(nd);
            int start = r.nextInt(shape[d] + 1), len = r.nextInt(shape[d] - start + 1);
            Tensor n = x.narrow(d - (r.nextBoolean() ? nd : 0), start, len);
            int[] ns = shape.clone();
            ns[d] = len;
            assertArrayEquals(ns, n.shape());
            assertSame(x.storage(), n.storage());
            int[] xi = new int[nd];
            double[] expect = new double[numel(ns)];
            int[] k = {0};
            forEachIndex(ns, idx -> {
                System.arraycopy(idx, 0, xi, 0, nd);
                xi[d] += start;
                expect[k[0]++] = xv[ravel(xi, shape)];
            });
            assertArrayEquals(expect, rawValues(n), 0.0, "narrow");
            assertArrayEquals(expect, n.toDoubleArray(), 0.0, "narrow copy");

            int i = r.nextInt(shape[d]);
            Tensor sel = x.select(d, r.nextBoolean() ? i : i - shape[d]);
            int[] ss = new int[nd - 1];
            for (int a = 0, b = 0; a < nd; a++) if (a != d) ss[b++] = shape[a];
            assertArrayEquals(ss, sel.shape());
            double[] se = new double[numel(ss)];
            int[] k2 = {0};
            forEachIndex(ss, idx -> {
                for (int a = 0, b = 0; a < nd; a++) xi[a] = a == d ? i : idx[b++];
                se[k2[0]++] = xv[ravel(xi, shape)];
            });
            assertArrayEquals(se, rawValues(sel), 0.0, "select");
            assertArrayEquals(se, sel.toDoubleArray(), 0.0, "select copy");
        }
        Tensor x = Tensor.zeros(3, 4);
        assertIAE(() -> x.narrow(1, 2, 3), "narrow", "[3, 4]");
        assertIAE(() -> x.narrow(1, -1, 2), "narrow", "[3, 4]");
        assertIAE(() -> x.narrow(0, 0, -1), "narrow", "[3, 4]");
        assertIAE(() -> x.select(0, 3), "select", "[3, 4]");
        assertIAE(() -> x.select(1, -5), "select", "[3, 4]");
        assertArrayEquals(new int[]{3, 0}, x.narrow(1, 4, 0).shape());
    }

    @Test
    void expandBroadcastsWithZeroStrides() {
        Random r = rng(15);
        for (int t = 0; t < 60; t++) {
            int nd = 1 + r.nextInt(3);
            int[] big = randomShape(r, nd + r.nextInt(2), 1, 4);
            int[] small = Arrays.copyOfRange(big, big.length - nd, big.length);
            for (int i = 0; i < nd; i++) if (r.nextBoolean()) small[i] = 1;
            Tensor x = maybeNonContiguous(r, random(r, DType.I32, small));
            double[] xv = rawValues(x);
            int[] req = big.clone();
            int lead = big.length - nd;
            for (int i = lead; i < big.length; i++) if (small[i - lead] == big[i] && r.nextBoolean()) req[i] = -1;
            Tensor e = x.expand(req);
            assertArrayEquals(big, e.shape());
            assertSame(x.storage(), e.storage());
            for (int i = 0; i < big.length; i++) {
                if (i < lead || (small[i - lead] == 1 && big[i] != 1)) assertEquals(0, e.stride(i), "stride of broadcast dim " + i);
            }
            assertArrayEquals(broadcastRef(xv, small, big), rawValues(e), 0.0, "expand");
            assertArrayEquals(broadcastRef(xv, small, big), e.toDoubleArray(), 0.0, "expand copy");
            assertFalse(numel(small) < numel(big) && e.isContiguous(), "a real broadcast is not contiguous");
        }
        Tensor x = Tensor.zeros(3, 1);
        assertArrayEquals(new int[]{3, 0}, x.expand(3, 0).shape());
        assertIAE(() -> x.expand(4, 2), "expand", "[3, 1]", "[4, 2]");
        assertIAE(() -> x.expand(3), "expand", "[3, 1]", "[3]");
        assertIAE(() -> x.expand(-1, 3, 2), "expand");
    }

    @Test
    void squeezeAndUnsqueeze() {
        Random r = rng(16);
        for (int t = 0; t < 40; t++) {
            int[] shape = randomShape(r, 1 + r.nextInt(4), 1, 3);
            Tensor x = maybeNonContiguous(r, random(r, DType.F32, shape));
            double[] xv = rawValues(x);
            int nd = shape.length;
            int d = r.nextInt(nd + 1);
            Tensor u = x.unsqueeze(r.nextBoolean() ? d : d - nd - 1);
            int[] us = new int[nd + 1];
            for (int i = 0, j = 0; i <= nd; i++) us[i] = i == d ? 1 : shape[j++];
            assertArrayEquals(us, u.shape());
            assertArrayEquals(xv, rawValues(u), 0.0);
            assertSame(x.storage(), u.storage());
            // the new dim must not break viewability: unsqueeze(...).view(original) must work
            assertArrayEquals(xv, rawValues(u.squeeze(d)), 0.0);
            assertArrayEquals(shape, u.squeeze(d).shape());
            int[] sq = Arrays.stream(shape).filter(v -> v != 1).toArray();
            assertArrayEquals(sq, x.squeeze().shape());
            assertArrayEquals(xv, rawValues(x.squeeze()), 0.0);
            int k = r.nextInt(nd);
            Tensor s1 = x.squeeze(k);
            if (shape[k] != 1) assertSame(x, s1, "squeeze of a non-1 dim is a no-op");
            else assertEquals(nd - 1, s1.ndim());
        }
        Tensor c = Tensor.zeros(2, 3);
        assertTrue(c.unsqueeze(2).isContiguous());
        assertTrue(c.unsqueeze(0).isContiguous());
        assertArrayEquals(new int[]{2, 3, 1}, c.unsqueeze(-1).shape());
        assertIAE(() -> c.unsqueeze(3), "unsqueeze");
        assertIAE(() -> c.squeeze(2), "squeeze");
    }

    // ---------------------------------------------------------------- contiguous / copy / copyFrom / to

    @Test
    void contiguousCopiesOnlyWhenNeeded() {
        Tensor x = Tensor.arange(0, 24, 1, DType.F32).view(2, 3, 4);
        assertSame(x, x.contiguous());
        Tensor rows = x.narrow(0, 1, 1); // offset 12, still contiguous
        assertTrue(rows.isContiguous());
        assertSame(rows, rows.contiguous());
        Tensor sel = x.select(1, 2); // (2, 4) strides (12, 1): not contiguous
        assertFalse(sel.isContiguous());
        Tensor c = sel.contiguous();
        assertNotSame(sel.storage(), c.storage());
        assertTrue(c.isContiguous());
        assertArrayEquals(new double[]{8, 9, 10, 11, 20, 21, 22, 23}, c.toDoubleArray());
        Tensor tt = x.transpose(1, 2);
        Tensor tc = tt.contiguous();
        assertNotSame(tt.storage(), tc.storage());
        assertArrayEquals(new int[]{12, 3, 1}, tc.strides());
        assertArrayEquals(rawValues(tt), rawValues(tc), 0.0);
        // size-1 dims with odd strides are still contiguous
        Tensor odd = new Tensor(x.storage(), new int[]{1, 4}, new int[]{99, 1}, 4);
        assertTrue(odd.isContiguous());
        assertSame(odd, odd.contiguous());
        assertArrayEquals(new double[]{4, 5, 6, 7}, odd.toDoubleArray());
        // copy never shares
        Tensor cp = x.copy();
        assertNotSame(x.storage(), cp.storage());
        assertArrayEquals(x.toDoubleArray(), cp.toDoubleArray(), 0.0);
        Random r = rng(17);
        for (int t = 0; t < 30; t++) {
            int[] shape = randomShape(r, r.nextInt(4), 0, 4);
            Tensor v = nonContiguous(r, random(r, DType.F64, shape));
            Tensor vc = v.contiguous();
            assertTrue(vc.isContiguous());
            assertArrayEquals(rawValues(v), rawValues(vc), 0.0);
            if (numel(shape) > 1) assertNotSame(v.storage(), vc.storage());
        }
    }

    @Test
    void copyFromWritesIntoAView() {
        Random r = rng(18);
        for (int t = 0; t < 40; t++) {
            int[] shape = randomShape(r, 2 + r.nextInt(2), 1, 5);
            DType dst = ALL[r.nextInt(3)], srcT = ALL[r.nextInt(3)];
            double[] base = randomValues(r, numel(shape), dst);
            Tensor x = tensor(base, dst, shape);
            // a random strided sub-view: narrow every dim, then maybe transpose
            int nd = shape.length;
            int[] st = new int[nd], len = new int[nd];
            Tensor v = x;
            for (int d = 0; d < nd; d++) {
                st[d] = r.nextInt(shape[d]);
                len[d] = 1 + r.nextInt(shape[d] - st[d]);
                v = v.narrow(d, st[d], len[d]);
            }
            boolean tr = r.nextBoolean();
            if (tr) v = v.transpose(0, nd - 1);
            int[] vs = v.shape();
            // src broadcasts to the view's shape
            int[] srcShape = vs.clone();
            for (int d = 0; d < nd; d++) if (r.nextInt(3) == 0) srcShape[d] = 1;
            if (r.nextBoolean()) srcShape = Arrays.copyOfRange(srcShape, 1, nd);
            double[] sv = randomValues(r, numel(srcShape), srcT);
            Tensor src = maybeNonContiguous(r, tensor(sv, srcT, srcShape));
            Tensor ret = v.copyFrom(src);
            assertSame(v, ret);
            double[] bsrc = broadcastRef(sv, srcShape, vs);
            double[] expect = base.clone();
            int[] k = {0};
            int[] xi = new int[nd];
            forEachIndex(vs, idx -> {
                for (int d = 0; d < nd; d++) xi[d] = idx[d];
                if (tr) {
                    int tmp = xi[0];
                    xi[0] = xi[nd - 1];
                    xi[nd - 1] = tmp;
                }
                for (int d = 0; d < nd; d++) xi[d] += st[d];
                double val = bsrc[k[0]++];
                expect[ravel(xi, shape)] = dst == DType.I32 ? (int) val : dst == DType.F32 ? (float) val : val;
            });
            assertArrayEquals(expect, rawValues(x), 0.0, "copyFrom " + srcT + " -> " + dst + " view " + s(vs) + " src " + s(srcShape));
        }
    }

    @Test
    void dtypeConversionsAndHostAccess() {
        Tensor x = Tensor.of(new double[]{-2.7, -0.5, 0, 1.9, 3.5, 1e3}, 2, 3);
        assertSame(x, x.to(DType.F64));
        Tensor i = x.to(DType.I32);
        assertEquals(DType.I32, i.dtype());
        assertArrayEquals(new int[]{-2, 0, 0, 1, 3, 1000}, i.toIntArray(), "floats to I32 truncate toward zero");
        assertArrayEquals(new int[]{-2, 0, 0, 1, 3, 1000}, x.toIntArray());
        Tensor f = x.t().to(DType.F32);
        assertEquals(DType.F32, f.dtype());
        assertArrayEquals(new float[]{-2.7f, 1.9f, -0.5f, 3.5f, 0f, 1e3f}, f.toFloatArray());
        assertEquals(3.5, x.get(1, 1));
        assertEquals(1.9, x.t().get(0, 1));
        assertEquals(-0.5, x.get(0, -2));
        assertIAE(() -> x.get(1), "get");
        assertIAE(() -> x.item(), "item", "[2, 3]");
        assertArrayEquals(new double[]{0, 1, 2, 3, 4}, Tensor.arange(5).toDoubleArray());
        assertEquals(DType.I32, Tensor.arange(5).dtype());
        assertArrayEquals(new double[]{1, 1.5, 2, 2.5}, Tensor.arange(1, 3, 0.5, DType.F64).toDoubleArray());
        assertArrayEquals(new double[]{5, 3, 1}, Tensor.arange(5, 0, -2, DType.F32).toDoubleArray());
        assertEquals(0, Tensor.arange(3, 3, 1, DType.F32).numel());
        assertArrayEquals(new double[]{7, 7, 7, 7}, Tensor.full(DType.I32, Device.CPU, 7.9, 2, 2).toDoubleArray());
        assertTrue(Double.isNaN(Tensor.full(DType.F32, Device.CPU, Double.NaN, 3).toDoubleArray()[2]));
        assertIAE(() -> Tensor.of(new float[5], 2, 3), "of", "[2, 3]");
        assertIAE(() -> Tensor.zeros(2, -1), "negative");
        assertTrue(x.toString().contains("shape=[2, 3]"));
    }
}
