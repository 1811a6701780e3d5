package mlip.cuda;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import jcuda.Pointer;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import mlip.tensor.Philox;

/**
 * The kernel lab (llm.c's {@code dev/cuda} workflow): for every kernel family, every numbered version
 * found in the loaded PTX is checked against a plain Java reference on the same inputs, then the
 * versions that pass are timed with CUDA events (L2 flushed before each run) and reported in GB/s or
 * GFLOP/s beside the device's roofline.
 *
 * <pre>{@code
 * KernelLab lab = new KernelLab(JCudaDevice.open(Device.parse("cuda-emu")), KernelLab.Size.SMALL);
 * List<KernelLab.Result> results = lab.run(System.out, 3);   // every version of every family, 3 timed runs
 * }</pre>
 *
 * <p>On {@code cuda-emu} the checks are real (the same kernels run on the emulator) but the times are
 * CPU times of an emulator and are labelled as not meaningful.
 */
public final class KernelLab {
    /** Problem sizes: SMALL for the emulator and tests, LARGE for a GPU. */
    public enum Size { SMALL, LARGE }

    /** One kernel version's outcome; {@code ms} is NaN when not timed. */
    public record Result(String family, String kernel, boolean passed, double maxError, double ms, double throughput, String unit) {
    }

    private final JCudaDevice dev;
    private final Size size;
    private final Random rng = new Random(42);
    private CUdeviceptr flush;
    private long flushBytes;

    public KernelLab(JCudaDevice dev, Size size) {
        this.dev = dev;
        this.size = size;
    }

    // ------------------------------------------------------------------ one case = inputs, launch, reference

    /** A kernel version bound to inputs: {@code launch} runs it once; {@code output} reads the result back. */
    private interface Case {
        /** Resets in-place state (outside the timed region). */
        default void prepare() {
        }

        void launch();

        float[] output();
    }

    private interface CaseFactory {
        Case make(String kernel);
    }

    private record Family(String name, List<String> bases, CaseFactory factory, float[] reference, double work, String unit, double tol) {
    }

    private float[] randn(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rng.nextGaussian();
        return a;
    }

    private CUdeviceptr upload(float[] a) {
        CUdeviceptr p = dev.alloc(4L * a.length);
        dev.copyHtoD(p, Pointer.to(a), 4L * a.length);
        return p;
    }

    private CUdeviceptr upload(int[] a) {
        CUdeviceptr p = dev.alloc(4L * a.length);
        dev.copyHtoD(p, Pointer.to(a), 4L * a.length);
        return p;
    }

    private float[] download(CUdeviceptr p, int n) {
        float[] a = new float[n];
        dev.copyDtoH(Pointer.to(a), p, 4L * n);
        return a;
    }

    private float[] downloadInts(CUdeviceptr p, int n) {
        int[] a = new int[n];
        dev.copyDtoH(Pointer.to(a), p, 4L * n);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = a[i];
        return f;
    }

    /** Every version {@code base + N + suffix} present in the PTX, N = 1..9. */
    private List<String> versions(String base, String suffix) {
        List<String> out = new ArrayList<>();
        for (int v = 1; v <= 9; v++) if (dev.hasKernel(base + v + suffix)) out.add(base + v + suffix);
        return out;
    }

    private static int warpBlocks(int rows) {
        return Math.max(1, (rows + 7) / 8);
    }

    private static int threadBlocks(int rows) {
        return Math.max(1, (rows + 255) / 256);
    }

    /** Row-kernel geometry: version 1 is a thread per row, later versions a warp per row (KERNELS.md). */
    private static int rowBlocks(String kernel, int rows) {
        return kernel.contains("_kernel1_") ? threadBlocks(rows) : warpBlocks(rows);
    }

    // ------------------------------------------------------------------ the families

    private List<Family> families() {
        boolean small = size == Size.SMALL;
        List<Family> fs = new ArrayList<>();

        // elementwise: exp(x) and a + b, contiguous (n odd so the float4 path has a tail)
        int n = small ? 10_007 : 1 << 24 | 3;
        float[] x = randn(n), y = randn(n);
        CUdeviceptr dx = upload(x), dy = upload(y), dout = dev.alloc(4L * n);
        float[] expRef = new float[n], addRef = new float[n];
        for (int i = 0; i < n; i++) {
            expRef[i] = (float) Math.exp(x[i]);
            addRef[i] = x[i] + y[i];
        }
        fs.add(new Family("unary (exp)", versions("unary_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, dev.grid1d(n), 256, 0, dout, dx, n, 3); }
            public float[] output() { return download(dout, n); }
        }, expRef, 8.0 * n, "GB/s", 1e-5));
        fs.add(new Family("binary (add)", versions("binary_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, dev.grid1d(n), 256, 0, dout, dx, dy, n, 0); }
            public float[] output() { return download(dout, n); }
        }, addRef, 12.0 * n, "GB/s", 1e-6));

        // GELU forward and backward (tanh approximation)
        float[] gf = new float[n], gb = new float[n];
        for (int i = 0; i < n; i++) {
            double v = x[i], k0 = Math.sqrt(2 / Math.PI), u = k0 * (v + 0.044715 * v * v * v), th = Math.tanh(u);
            gf[i] = (float) (0.5 * v * (1 + th));
            gb[i] = (float) (y[i] * (0.5 * (1 + th) + 0.5 * v * (1 - th * th) * k0 * (1 + 3 * 0.044715 * v * v)));
        }
        fs.add(new Family("gelu forward", versions("gelu_forward_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, dev.grid1d(n), 256, 0, dout, dx, n); }
            public float[] output() { return download(dout, n); }
        }, gf, 8.0 * n, "GB/s", 1e-5));
        fs.add(new Family("gelu backward", versions("gelu_backward_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, dev.grid1d(n), 256, 0, dout, dx, dy, n); }
            public float[] output() { return download(dout, n); }
        }, gb, 12.0 * n, "GB/s", 1e-5));

        // row-wise families on (rows, C)
        int rows = small ? 67 : 8192, c = small ? 257 : 4096, rc = rows * c;
        float[] m = randn(rc);
        CUdeviceptr dm = upload(m), dmo = dev.alloc(4L * rc);
        float[] sumRef = new float[rows], smRef = new float[rc];
        for (int r = 0; r < rows; r++) {
            double s = 0, mx = Double.NEGATIVE_INFINITY, z = 0;
            for (int j = 0; j < c; j++) {
                s += m[r * c + j];
                mx = Math.max(mx, m[r * c + j]);
            }
            for (int j = 0; j < c; j++) z += Math.exp(m[r * c + j] - mx);
            for (int j = 0; j < c; j++) smRef[r * c + j] = (float) (Math.exp(m[r * c + j] - mx) / z);
            sumRef[r] = (float) s;
        }
        fs.add(new Family("reduce (sum rows)", versions("reduce_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, rowBlocks(k, rows), 256, 0, dmo, dm, rows, c, 1, 0); }
            public float[] output() { return download(dmo, rows); }
        }, sumRef, 4.0 * rc, "GB/s", 1e-3));
        fs.add(new Family("softmax", versions("softmax_forward_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, rowBlocks(k, rows), 256, 0, dmo, dm, rows, c, 0); }
            public float[] output() { return download(dmo, rc); }
        }, smRef, 8.0 * rc, "GB/s", 1e-5));

        // layer norm forward and backward
        float[] w = randn(c), b = randn(c), dyv = randn(rc);
        CUdeviceptr dw = upload(w), db = upload(b), ddy = upload(dyv), mean = dev.alloc(4L * rows), rstd = dev.alloc(4L * rows);
        CUdeviceptr gw = dev.alloc(4L * c), gbias = dev.alloc(4L * c), gx = dev.alloc(4L * rc);
        float[] lnRef = new float[rc], lnBack = new float[rc + 2 * c];
        float[] meanRef = new float[rows], rstdRef = new float[rows];
        for (int r = 0; r < rows; r++) {
            double mu = 0, var = 0;
            for (int j = 0; j < c; j++) mu += m[r * c + j];
            mu /= c;
            for (int j = 0; j < c; j++) var += (m[r * c + j] - mu) * (m[r * c + j] - mu);
            double rs = 1 / Math.sqrt(var / c + 1e-5);
            meanRef[r] = (float) mu;
            rstdRef[r] = (float) rs;
            double a1 = 0, a2 = 0;
            for (int j = 0; j < c; j++) {
                double nrm = (m[r * c + j] - mu) * rs, dn = dyv[r * c + j] * w[j];
                lnRef[r * c + j] = (float) (nrm * w[j] + b[j]);
                a1 += dn;
                a2 += dn * nrm;
                lnBack[rc + j] += (float) (dyv[r * c + j] * nrm);
                lnBack[rc + c + j] += dyv[r * c + j];
            }
            for (int j = 0; j < c; j++) {
                double nrm = (m[r * c + j] - mu) * rs, dn = dyv[r * c + j] * w[j];
                lnBack[r * c + j] = (float) (rs * (dn - a1 / c - nrm * a2 / c));
            }
        }
        fs.add(new Family("layernorm forward", versions("layernorm_forward_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, rowBlocks(k, rows), 256, 0, dmo, mean, rstd, dm, dw, db, rows, c, 1e-5); }
            public float[] output() { return download(dmo, rc); }
        }, lnRef, 8.0 * rc, "GB/s", 1e-4));
        CUdeviceptr meanIn = upload(meanRef), rstdIn = upload(rstdRef);
        fs.add(new Family("layernorm backward", versions("layernorm_backward_kernel", "_f32"), k -> new Case() {
            public void prepare() {
                dev.zero(gw, 4L * c);
                dev.zero(gbias, 4L * c);
            }
            public void launch() {
                dev.launch(k, rowBlocks(k, rows), 256, 0, gx, gw, gbias, ddy, dm, dw, meanIn, rstdIn, rows, c);
            }
            public float[] output() {
                float[] o = new float[rc + 2 * c];
                System.arraycopy(download(gx, rc), 0, o, 0, rc);
                System.arraycopy(download(gw, c), 0, o, rc, c);
                System.arraycopy(download(gbias, c), 0, o, rc + c, c);
                return o;
            }
        }, lnBack, 12.0 * rc, "GB/s", 1e-3));

        // the transformer fusions: bias + GELU (exact form, what the MLPs use) and residual add + layer norm,
        // on the same (rows, C) inputs: x = m, bias = b, dout = dyv, residual y = dyv
        // bias + GELU on rows of cb = C rounded down to a multiple of 4, so version 2's float4 path runs too
        int cb = c & ~3, nb = rows * cb;
        float[] bgRef = new float[nb], bgBack = new float[nb], alnRef = new float[2 * rc];
        for (int i = 0; i < nb; i++) {
            double pre = (double) m[i] + b[i % cb], cdf = 0.5 * (1 + mlip.tensor.cpu.ScalarMath.erf(pre / Math.sqrt(2)));   // the double series, ~1e-15
            bgRef[i] = (float) (pre * cdf);
            bgBack[i] = (float) (dyv[i] * (cdf + pre * Math.exp(-pre * pre / 2) / Math.sqrt(2 * Math.PI)));
        }
        for (int r = 0; r < rows; r++) {
            double mu = 0, var = 0;
            for (int j = 0; j < c; j++) {
                double sum = (double) m[r * c + j] + dyv[r * c + j];
                alnRef[r * c + j] = (float) sum;
                mu += sum;
            }
            mu /= c;
            for (int j = 0; j < c; j++) var += (alnRef[r * c + j] - mu) * (alnRef[r * c + j] - mu);
            double rs = 1 / Math.sqrt(var / c + 1e-5);
            for (int j = 0; j < c; j++) alnRef[rc + r * c + j] = (float) ((alnRef[r * c + j] - mu) * rs * w[j] + b[j]);
        }
        fs.add(new Family("bias gelu forward (erf)", versions("bias_gelu_forward_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, dev.grid1d(nb), 256, 0, dmo, dm, db, nb, cb, 0); }
            public float[] output() { return download(dmo, nb); }
        }, bgRef, 8.0 * nb, "GB/s", 1e-5));
        fs.add(new Family("bias gelu backward (erf)", versions("bias_gelu_backward_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, dev.grid1d(nb), 256, 0, gx, dm, db, ddy, nb, cb, 0); }
            public float[] output() { return download(gx, nb); }
        }, bgBack, 12.0 * nb, "GB/s", 1e-5));
        CUdeviceptr alnSum = dev.alloc(4L * rc);
        fs.add(new Family("add + layernorm forward", versions("add_layernorm_forward_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, warpBlocks(rows), 256, 0, alnSum, dmo, mean, rstd, dm, ddy, dw, db, rows, c, 1e-5); }
            public float[] output() {
                float[] o = new float[2 * rc];
                System.arraycopy(download(alnSum, rc), 0, o, 0, rc);
                System.arraycopy(download(dmo, rc), 0, o, rc, rc);
                return o;
            }
        }, alnRef, 16.0 * rc, "GB/s", 1e-4));

        // cross-entropy forward and backward (no smoothing, no ignored rows)
        int[] target = new int[rows];
        for (int r = 0; r < rows; r++) target[r] = rng.nextInt(c);
        CUdeviceptr dt = upload(target), errFlag = dev.alloc(4), ones = upload(filled(rows, 1f));
        float[] ceRef = new float[rows], ceBack = new float[rc];
        for (int r = 0; r < rows; r++) {
            double mx = Double.NEGATIVE_INFINITY, z = 0;
            for (int j = 0; j < c; j++) mx = Math.max(mx, m[r * c + j]);
            for (int j = 0; j < c; j++) z += Math.exp(m[r * c + j] - mx);
            ceRef[r] = (float) (Math.log(z) + mx - m[r * c + target[r]]);
            for (int j = 0; j < c; j++) ceBack[r * c + j] = (float) (Math.exp(m[r * c + j] - mx) / z - (j == target[r] ? 1 : 0));
        }
        fs.add(new Family("crossentropy forward", versions("crossentropy_forward_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, warpBlocks(rows), 256, 0, dmo, dm, dt, rows, c, -100, 0.0, errFlag); }
            public float[] output() { return download(dmo, rows); }
        }, ceRef, 4.0 * rc, "GB/s", 1e-4));
        fs.add(new Family("crossentropy backward", versions("crossentropy_backward_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, warpBlocks(rows), 256, 0, dmo, dm, dt, ones, rows, c, -100, 0.0); }
            public float[] output() { return download(dmo, rc); }
        }, ceBack, 8.0 * rc, "GB/s", 1e-5));

        // top-k along rows
        int kk = Math.min(8, c);
        float[] topRef = new float[rows * kk];
        for (int r = 0; r < rows; r++) {
            Integer[] idx = new Integer[c];
            for (int j = 0; j < c; j++) idx[j] = j;
            int rr = r;
            Arrays.sort(idx, (p, q) -> m[rr * c + p] != m[rr * c + q] ? Float.compare(m[rr * c + q], m[rr * c + p]) : Integer.compare(p, q));
            for (int j = 0; j < kk; j++) topRef[r * kk + j] = idx[j];
        }
        CUdeviceptr tv = dev.alloc(4L * rows * kk), ti = dev.alloc(4L * rows * kk);
        fs.add(new Family("topk (k=8)", versions("topk_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, rows, 256, 0, tv, ti, dm, rows, c, kk, 1); }
            public float[] output() { return downloadInts(ti, rows * kk); }
        }, topRef, 4.0 * rc, "GB/s", 0));

        // top-k masking (topk_mask.cu): keep the k best-scored of N patches per image, fused gather, indices in
        // ascending patch order; the paper shape on a GPU. Scores on a 1/8 grid (ties) with a NaN and a -0.0.
        int tmB = small ? 4 : 128, tmN = 196, tmK = 98, tmD = small ? 40 : 768, tmP = Integer.highestOneBit(tmN - 1) << 1;
        float[] tmScores = randn(tmB * tmN), tmX = randn(tmB * tmN * tmD), tmGrad = randn(tmB * tmK * tmD);
        for (int i = 0; i < tmScores.length; i++) tmScores[i] = Math.round(tmScores[i] * 8) / 8f;
        tmScores[3] = Float.NaN;
        tmScores[tmN + 5] = -0.0f;
        float[] tmRef = new float[tmB * tmK * tmD + tmB * tmK], tmBack = new float[tmB * tmN * tmD];
        for (int r = 0; r < tmB; r++) {
            Integer[] order = new Integer[tmN];
            for (int j = 0; j < tmN; j++) order[j] = j;
            int rr = r;
            Arrays.sort(order, (p, q) -> {   // NaN first, then score descending (== ties, -0.0 == 0.0), then index
                float a = tmScores[rr * tmN + p], bb = tmScores[rr * tmN + q];
                if (Float.isNaN(a) || Float.isNaN(bb)) return Float.isNaN(a) && Float.isNaN(bb) ? Integer.compare(p, q) : Float.isNaN(a) ? -1 : 1;
                return a != bb ? (a > bb ? -1 : 1) : Integer.compare(p, q);
            });
            int[] kept = new int[tmK];
            for (int j = 0; j < tmK; j++) kept[j] = order[j];
            Arrays.sort(kept);   // ascending patch order
            for (int j = 0; j < tmK; j++) {
                tmRef[tmB * tmK * tmD + r * tmK + j] = kept[j];
                System.arraycopy(tmX, (r * tmN + kept[j]) * tmD, tmRef, (r * tmK + j) * tmD, tmD);
                for (int c2 = 0; c2 < tmD; c2++) tmBack[(r * tmN + kept[j]) * tmD + c2] = 0f + tmGrad[(r * tmK + j) * tmD + c2];
            }
        }
        int[] tmIdxRef = new int[tmB * tmK];
        for (int i = 0; i < tmIdxRef.length; i++) tmIdxRef[i] = (int) tmRef[tmB * tmK * tmD + i];
        CUdeviceptr tmPs = upload(tmScores), tmPx = upload(tmX), tmPg = upload(tmGrad), tmPi = upload(tmIdxRef);
        CUdeviceptr tmVals = dev.alloc(4L * tmB * tmK * tmD), tmIdx = dev.alloc(4L * tmB * tmK), tmDx = dev.alloc(4L * tmB * tmN * tmD);
        CUdeviceptr tmErr = dev.alloc(4);
        fs.add(new Family("topk mask", versions("topk_mask_kernel", "_f32"), k -> new Case() {
            public void launch() {
                int shared = k.contains("_kernel1_") ? 4 * (2 * tmP + tmN) : 0;   // kernel1: the bitonic sort's keys, indices, flags
                dev.launch(k, tmB, 256, shared, tmVals, tmIdx, tmPx, tmPs, tmB, tmN, tmK, tmD);
            }
            public float[] output() {
                float[] o = new float[tmB * tmK * tmD + tmB * tmK];
                System.arraycopy(download(tmVals, tmB * tmK * tmD), 0, o, 0, tmB * tmK * tmD);
                System.arraycopy(downloadInts(tmIdx, tmB * tmK), 0, o, tmB * tmK * tmD, tmB * tmK);
                return o;
            }
        }, tmRef, 4.0 * (tmB * tmN + 2.0 * tmB * tmK * tmD + tmB * tmK), "GB/s", 0));
        fs.add(new Family("topk mask backward", versions("topk_mask_backward_kernel", "_f32"), k -> new Case() {
            public void prepare() { dev.zero(tmErr, 4); }
            public void launch() {
                dev.launch(k, new int[]{tmB, (tmN + 31) / 32, 1}, new int[]{256, 1, 1}, 0, tmDx, tmPg, tmPi, tmB, tmN, tmK, tmD, tmErr);
            }
            public float[] output() { return download(tmDx, tmB * tmN * tmD); }
        }, tmBack, 4.0 * (tmB * tmK * tmD + tmB * tmK + (double) tmB * tmN * tmD), "GB/s", 0));

        // SGEMM (M, K) @ (K, N), sizes not multiples of the tiles
        int gm = small ? 67 : 4096 - 3, gn = small ? 75 : 4096 - 5, gk = small ? 97 : 4096 - 1;
        float[] ga = randn(gm * gk), gbm = randn(gk * gn), gemmRef = new float[gm * gn];
        for (int i = 0; i < gm; i++) {
            for (int p = 0; p < gk; p++) {
                float aip = ga[i * gk + p];
                for (int j = 0; j < gn; j++) gemmRef[i * gn + j] += aip * gbm[p * gn + j];
            }
        }
        CUdeviceptr pa = upload(ga), pb = upload(gbm), pc = dev.alloc(4L * gm * gn), zero = upload(new int[]{0});
        fs.add(new Family("sgemm", versions("sgemm_kernel", "_f32"), k -> new Case() {
            public void launch() {
                boolean tiled64 = k.equals("sgemm_kernel3_f32");
                int[] grid = tiled64 ? new int[]{(gn + 63) / 64, (gm + 63) / 64, 1} : new int[]{(gn + 15) / 16, (gm + 15) / 16, 1};
                int[] block = tiled64 ? new int[]{256, 1, 1} : new int[]{16, 16, 1};
                dev.launch(k, grid, block, 0, pc, pa, pb, gm, gn, gk, gk, 1, gn, 1, zero, zero);
            }
            public float[] output() { return download(pc, gm * gn); }
        }, gemmRef, 2.0 * gm * gn * gk, "GFLOP/s", 1e-3));

        // AdamW step
        float[] p0 = randn(n), g0 = randn(n), m0 = randn(n), v0 = new float[n], adamRef = new float[n];
        for (int i = 0; i < n; i++) v0[i] = Math.abs(randn(1)[0]);
        double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01, bc1 = 1 - Math.pow(b1, 3), bc2 = 1 - Math.pow(b2, 3);
        for (int i = 0; i < n; i++) {
            double p = p0[i] * (1 - lr * wd), mm = b1 * m0[i] + (1 - b1) * g0[i], vv = b2 * v0[i] + (1 - b2) * g0[i] * g0[i];
            adamRef[i] = (float) (p - (lr / bc1) * mm / (Math.sqrt(vv) / Math.sqrt(bc2) + eps));
        }
        CUdeviceptr ap = dev.alloc(4L * n), ag = upload(g0), am = dev.alloc(4L * n), av = dev.alloc(4L * n);
        fs.add(new Family("adamw", versions("adamw_kernel", "_f32"), k -> new Case() {
            public void prepare() {
                dev.copyHtoD(ap, Pointer.to(p0), 4L * n); // fresh state each run: the step updates in place
                dev.copyHtoD(am, Pointer.to(m0), 4L * n);
                dev.copyHtoD(av, Pointer.to(v0), 4L * n);
            }
            public void launch() {
                dev.launch(k, dev.grid1d(n), 256, 0, ap, ag, am, av, n, (float) lr, (float) b1, (float) b2, (float) eps, (float) wd,
                        (float) bc1, (float) bc2);
            }
            public float[] output() { return download(ap, n); }
        }, adamRef, 28.0 * n, "GB/s", 1e-5));

        // embedding backward: dW[ids[i]] += dout[i] (atomics), and index_select of rows
        int tokens = small ? 301 : 65536, dim = small ? 37 : 768, vocab = small ? 50 : 30522;
        int[] ids = new int[tokens];
        for (int i = 0; i < tokens; i++) ids[i] = rng.nextInt(vocab);
        float[] dEmb = randn(tokens * dim), embRef = new float[vocab * dim], table = randn(vocab * dim), selRef = new float[tokens * dim];
        for (int i = 0; i < tokens; i++) {
            for (int j = 0; j < dim; j++) {
                embRef[ids[i] * dim + j] += dEmb[i * dim + j];
                selRef[i * dim + j] = table[ids[i] * dim + j];
            }
        }
        CUdeviceptr pIds = upload(ids), pDout = upload(dEmb), pDw = dev.alloc(4L * vocab * dim), pTable = upload(table);
        CUdeviceptr pSel = dev.alloc(4L * tokens * dim), idxErr = dev.alloc(4);
        fs.add(new Family("embedding backward", versions("embedding_backward_kernel", "_f32"), k -> new Case() {
            public void prepare() { dev.zero(pDw, 4L * vocab * dim); }
            public void launch() { dev.launch(k, dev.grid1d(tokens * dim), 256, 0, pDw, pIds, pDout, tokens, dim, vocab, idxErr); }
            public float[] output() { return download(pDw, vocab * dim); }
        }, embRef, 12.0 * tokens * dim, "GB/s", 1e-5));
        fs.add(new Family("index_select (rows)", versions("index_select_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, dev.grid1d(tokens * dim), 256, 0, pSel, pTable, pIds, 1, vocab, tokens, dim, idxErr); }
            public float[] output() { return download(pSel, tokens * dim); }
        }, selRef, 8.0 * tokens * dim, "GB/s", 0));

        // argmax along rows
        float[] argRef = new float[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int j = 1; j < c; j++) if (m[r * c + j] > m[r * c + best]) best = j;
            argRef[r] = best;
        }
        CUdeviceptr pArg = dev.alloc(4L * rows);
        fs.add(new Family("argmax (rows)", versions("argreduce_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, warpBlocks(rows), 256, 0, pArg, dm, rows, c, 1, 1); }
            public float[] output() { return downloadInts(pArg, rows); }
        }, argRef, 4.0 * rc, "GB/s", 0));

        // Philox uniform fill: bit-exact with the Java generator
        float[] rnd = new float[n];
        int[] words = new int[4];
        for (int i = 0; i < n; i += 4) {
            Philox.block(5L, 0L, i / 4, words);
            for (int l = 0; l < 4 && i + l < n; l++) rnd[i + l] = Philox.uniformFloat(words[l]);
        }
        fs.add(new Family("random (uniform)", versions("random_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, dev.grid1d(n), 256, 0, dout, n, 5L, 0L, 0L, 0); }
            public float[] output() { return download(dout, n); }
        }, rnd, 4.0 * n, "GB/s", 0));
        otFamilies(fs, small);
        attentionFamilies(fs, small);
        return fs;
    }

    /**
     * patch_sentence_ot.cu: forward (scores, then u, then v, compared as one array) and the two backward
     * kernels, against {@link #otReference} in double. SMALL: B=6, N=13 (one patch masked per image),
     * M=5 (report j keeps 1 + j % 5 sentences), D=37; LARGE: paper-vitb16's B=128, N=98, M=16, E=512.
     */
    private void otFamilies(List<Family> fs, boolean small) {
        int b = small ? 6 : 128, n = small ? 13 : 98, m = small ? 5 : 16, d = small ? 37 : 512, iters = 20;
        double eps = 0.1;
        float[] p = unitRows(randn(b * n * d), d), s = unitRows(randn(b * m * d), d), g = randn(b * b);
        float[] pm = new float[b * n], sm = new float[b * m];
        for (int i = 0; i < b * n; i++) pm[i] = i % n == (i / n) % n ? 0 : 1;
        for (int j = 0; j < b * m; j++) sm[j] = j % m <= (j / m) % m ? 1 : 0;
        float[][] ref = otReference(p, pm, s, sm, g, b, n, m, d, eps, iters);
        CUdeviceptr dp = upload(p), ds = upload(s), dpm = upload(pm), dsm = upload(sm), dg = upload(g), du = upload(ref[1]), dv = upload(ref[2]);
        CUdeviceptr sc = dev.alloc(4L * b * b), uo = dev.alloc(4L * b * b * n), vo = dev.alloc(4L * b * b * m);
        CUdeviceptr gp = dev.alloc(4L * b * n * d), gs = dev.alloc(4L * b * m * d);
        float[] fwdRef = concat(ref[0], ref[1], ref[2]);
        double fwdFlops = (double) b * b * (2.0 * n * m * d + 4.0 * n * m * iters), bwdFlops = (double) b * b * 4.0 * n * m * d;
        fs.add(new Family("patch-sentence OT forward", versions("patch_sentence_ot_kernel", "_f32"), k -> new Case() {
            public void launch() {
                boolean v1 = k.contains("_kernel1_");
                int groups = 2;   // v2: reports per block (CudaBackend picks up to 8 by shared memory)
                int shared = v1 ? 4 * (2 * n * m + n + m + 4) : 4 * (n * 32 + groups * (m * 32 + 2 * n * m + n + m));
                dev.launch(k, v1 ? b * b : b * ((b + groups - 1) / groups), v1 ? 128 : 32 * groups, shared,
                        sc, uo, vo, dp, dpm, ds, dsm, b, b, n, m, d, (float) eps, iters);
            }
            public float[] output() { return concat(download(sc, b * b), download(uo, b * b * n), download(vo, b * b * m)); }
        }, fwdRef, fwdFlops, "GFLOP/s", 2e-4));
        fs.add(new Family("patch-sentence OT backward dP", versions("patch_sentence_ot_backward_patches_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, b, 128, 4 * n * m, gp, dg, du, dv, dp, dpm, ds, dsm, b, b, n, m, d, (float) eps); }
            public float[] output() { return download(gp, b * n * d); }
        }, ref[3], bwdFlops, "GFLOP/s", 1e-4));
        fs.add(new Family("patch-sentence OT backward dS", versions("patch_sentence_ot_backward_sentences_kernel", "_f32"), k -> new Case() {
            public void launch() { dev.launch(k, b, 128, 4 * n * m, gs, dg, du, dv, dp, dpm, ds, dsm, b, b, n, m, d, (float) eps); }
            public float[] output() { return download(gs, b * m * d); }
        }, ref[4], bwdFlops, "GFLOP/s", 1e-4));
    }

    /**
     * attention.cu: the forward (out, then lse, compared as one array) and the backward (the preprocess, then the
     * kernel: dq, dk, dv), against {@link #attentionReference} in double. SMALL: B=2, H=3, Tq=37, Tk=45 (partial
     * tiles, Tq != Tk), d=40, keys 0 and 44 of image 0 and key 7 of image 1 padded; LARGE: paper-vitb16's
     * ViT-B/16 self-attention, B=128, H=12, T=1+98=99, d=64, no padding. GFLOP/s count 4 B H Tq Tk d for the
     * forward and 10 B H Tq Tk d (five matmuls) for the backward.
     */
    private void attentionFamilies(List<Family> fs, boolean small) {
        int b = small ? 2 : 128, h = small ? 3 : 12, tq = small ? 37 : 99, tk = small ? 45 : 99, d = small ? 40 : 64;
        float scale = (float) (1 / Math.sqrt(d));
        float[] q = randn(b * h * tq * d), k = randn(b * h * tk * d), v = randn(b * h * tk * d), dout = randn(b * h * tq * d);
        int[] pad = new int[b * tk];
        if (small) {
            pad[0] = 1;
            pad[tk - 1] = 1;
            pad[tk + 7] = 1;
        }
        float[][] ref = attentionReference(q, k, v, pad, dout, b, h, tq, tk, d);
        CUdeviceptr dq = upload(q), dk = upload(k), dv = upload(v), dpad = upload(pad), dg = upload(dout), dOut = upload(ref[0]), dLse = upload(ref[1]);
        CUdeviceptr out = dev.alloc(4L * b * h * tq * d), lse = dev.alloc(4L * b * h * tq), rowDots = dev.alloc(4L * b * h * tq);
        CUdeviceptr gq = dev.alloc(4L * b * h * tq * d), gk = dev.alloc(4L * b * h * tk * d), gv = dev.alloc(4L * b * h * tk * d);
        double pairs = (double) b * h * tq * tk * d;
        int qTiles = (tq + 31) / 32, kTiles = (tk + 31) / 32;
        fs.add(new Family("attention forward", versions("attention_forward_kernel", "_f32"), kn -> new Case() {
            public void launch() {
                boolean v1 = kn.contains("_kernel1_");   // a thread per query; kernel2: a block per (b, h, 32 queries)
                dev.launch(kn, v1 ? (b * h * tq + 127) / 128 : b * h * qTiles, 128, v1 ? 0 : 384 * d, out, lse, dq, dk, dv, dpad, b, h, tq, tk, d, scale);
            }
            public float[] output() { return concat(download(out, b * h * tq * d), download(lse, b * h * tq)); }
        }, concat(ref[0], ref[1]), 4 * pairs, "GFLOP/s", 1e-4));
        fs.add(new Family("attention backward", versions("attention_backward_kernel", "_f32"), kn -> new Case() {
            public void launch() {
                dev.launch("attention_backward_preprocess_kernel1_f32", warpBlocks(b * h * tq), 256, 0, rowDots, dg, dOut, b * h * tq, d);
                dev.launch(kn, b * h * (kTiles + qTiles), 128, 384 * d, gq, gk, gv, dg, dq, dk, dv, dLse, rowDots, dpad, b, h, tq, tk, d, scale);
            }
            public float[] output() { return concat(download(gq, b * h * tq * d), download(gk, b * h * tk * d), download(gv, b * h * tk * d)); }
        }, concat(ref[2], ref[3], ref[4]), 10 * pairs, "GFLOP/s", 1e-4));
    }

    /**
     * Attention in double by Backend.attention's rules: {out (B, H, Tq, d), lse (B, H, Tq), dq, dk, dv} for q (B, H, Tq, d),
     * k, v (B, H, Tk, d), pad (B, Tk) nonzero = padded key, and the output gradient dout.
     */
    static float[][] attentionReference(float[] q, float[] k, float[] v, int[] pad, float[] dout, int b, int h, int tq, int tk, int d) {
        float[] out = new float[b * h * tq * d], lse = new float[b * h * tq], gq = new float[b * h * tq * d], gk = new float[b * h * tk * d],
                gv = new float[b * h * tk * d];
        double scale = 1 / Math.sqrt(d);
        double[] s = new double[tk], p = new double[tk], o = new double[d], dqi = new double[d], dkh = new double[tk * d], dvh = new double[tk * d];
        for (int bh = 0; bh < b * h; bh++) {
            int img = bh / h;
            Arrays.fill(dkh, 0);
            Arrays.fill(dvh, 0);
            for (int i = 0; i < tq; i++) {
                int qi = (bh * tq + i) * d;
                double mx = Double.NEGATIVE_INFINITY, z = 0;
                for (int j = 0; j < tk; j++) {
                    int kj = (bh * tk + j) * d;
                    double dot = 0;
                    for (int c = 0; c < d; c++) dot += (double) q[qi + c] * k[kj + c];
                    s[j] = pad[img * tk + j] != 0 ? Double.NEGATIVE_INFINITY : dot * scale;
                    mx = Math.max(mx, s[j]);
                }
                for (int j = 0; j < tk; j++) z += Math.exp(s[j] - mx);
                double l = mx + Math.log(z), rowDot = 0;
                Arrays.fill(o, 0);
                for (int j = 0; j < tk; j++) {
                    p[j] = Math.exp(s[j] - l);
                    for (int c = 0; c < d; c++) o[c] += p[j] * v[(bh * tk + j) * d + c];
                }
                for (int c = 0; c < d; c++) {
                    out[qi + c] = (float) o[c];
                    rowDot += dout[qi + c] * o[c];
                }
                lse[bh * tq + i] = (float) l;
                Arrays.fill(dqi, 0);
                for (int j = 0; j < tk; j++) {
                    int kj = (bh * tk + j) * d;
                    double dp = 0;
                    for (int c = 0; c < d; c++) dp += (double) dout[qi + c] * v[kj + c];
                    double ds = p[j] * (dp - rowDot);
                    for (int c = 0; c < d; c++) {
                        dqi[c] += ds * k[kj + c] * scale;
                        dkh[j * d + c] += ds * q[qi + c] * scale;
                        dvh[j * d + c] += p[j] * dout[qi + c];
                    }
                }
                for (int c = 0; c < d; c++) gq[qi + c] = (float) dqi[c];
            }
            for (int e = 0; e < tk * d; e++) {
                gk[bh * tk * d + e] = (float) dkh[e];
                gv[bh * tk * d + e] = (float) dvh[e];
            }
        }
        return new float[][]{out, lse, gq, gk, gv};
    }

    private static float[] unitRows(float[] x, int d) {
        for (int r = 0; r < x.length / d; r++) {
            double ss = 0;
            for (int q = 0; q < d; q++) ss += x[r * d + q] * x[r * d + q];
            for (int q = 0; q < d; q++) x[r * d + q] /= (float) Math.sqrt(ss);
        }
        return x;
    }

    private static float[] concat(float[]... parts) {
        int len = 0;
        for (float[] a : parts) len += a.length;
        float[] out = new float[len];
        int at = 0;
        for (float[] a : parts) {
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }

    /**
     * The OT op in double by Backend.patchSentenceOt's rules, pair by pair: {scores (B, B), u (B, B, N),
     * v (B, B, M), dP (B, N, D), dS (B, M, D)} for gradient g (B, B) of the scores.
     */
    static float[][] otReference(float[] p, float[] pm, float[] s, float[] sm, float[] g, int b, int n, int m, int d, double eps, int iters) {
        float[] scores = new float[b * b], uo = new float[b * b * n], vo = new float[b * b * m], dp = new float[b * n * d], ds = new float[b * m * d];
        double[] cos = new double[n * m], k = new double[n * m], u = new double[n], v = new double[m];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b; j++) {
                int rows = 0, cols = 0;
                for (int q = 0; q < n; q++) rows += pm[i * n + q] != 0 ? 1 : 0;
                for (int r = 0; r < m; r++) cols += sm[j * m + r] != 0 ? 1 : 0;
                for (int q = 0; q < n; q++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int r = 0; r < m; r++) {
                        double c = 0;
                        for (int e = 0; e < d; e++) c += (double) p[(i * n + q) * d + e] * s[(j * m + r) * d + e];
                        cos[q * m + r] = c;
                        if (pm[i * n + q] != 0 && sm[j * m + r] != 0) max = Math.max(max, c);
                    }
                    for (int r = 0; r < m; r++) k[q * m + r] = pm[i * n + q] != 0 && sm[j * m + r] != 0 ? Math.exp((cos[q * m + r] - max) / eps) : 0;
                }
                Arrays.fill(v, 1);
                for (int it = 0; it < iters; it++) {
                    for (int q = 0; q < n; q++) {
                        double kv = 0;
                        for (int r = 0; r < m; r++) kv += k[q * m + r] * v[r];
                        u[q] = kv > 0 ? 1.0 / Math.max(rows, 1) / kv : 0;
                    }
                    for (int r = 0; r < m; r++) {
                        double ku = 0;
                        for (int q = 0; q < n; q++) ku += k[q * m + r] * u[q];
                        v[r] = ku > 0 ? 1.0 / Math.max(cols, 1) / ku : 0;
                    }
                }
                double score = 0, gij = g[i * b + j];
                for (int q = 0; q < n; q++) {
                    for (int r = 0; r < m; r++) {
                        double t = u[q] * k[q * m + r] * v[r];
                        score += t * cos[q * m + r];
                        for (int e = 0; e < d; e++) {
                            dp[(i * n + q) * d + e] += (float) (gij * t * s[(j * m + r) * d + e]);
                            ds[(j * m + r) * d + e] += (float) (gij * t * p[(i * n + q) * d + e]);
                        }
                    }
                }
                scores[i * b + j] = (float) score;
                for (int q = 0; q < n; q++) uo[(i * b + j) * n + q] = (float) u[q];
                for (int r = 0; r < m; r++) vo[(i * b + j) * m + r] = (float) v[r];
            }
        }
        return new float[][]{scores, uo, vo, dp, ds};
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    // ------------------------------------------------------------------ running

    private static double maxRelError(float[] got, float[] want) {
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double e = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
            if (Double.isNaN(got[i]) != Double.isNaN(want[i])) e = Double.POSITIVE_INFINITY;
            if (e > worst || Double.isNaN(e)) worst = e;
        }
        return worst;
    }

    /** L2 flush buffer: twice the device's L2 (or 8 MiB when the driver reports none). */
    private void flushL2() {
        if (flush == null) {
            CUdevice d = new CUdevice();
            JCudaDriver.cuDeviceGet(d, dev.device().index());
            int[] l2 = {0};
            JCudaDriver.cuDeviceGetAttribute(l2, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, d);
            flushBytes = Math.max(8L << 20, 2L * l2[0]);
            flush = dev.alloc(flushBytes);
        }
        dev.zero(flush, flushBytes);
    }

    /** Peak DRAM bandwidth in GB/s and FP32 peak in GFLOP/s from the device attributes. */
    public double[] roofline() {
        CUdevice d = new CUdevice();
        JCudaDriver.cuDeviceGet(d, dev.device().index());
        int[] v = {0};
        JCudaDriver.cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, d);
        double memKHz = v[0];
        JCudaDriver.cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, d);
        double busBits = v[0];
        JCudaDriver.cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_CLOCK_RATE, d);
        double clockKHz = v[0];
        int[] cc = dev.computeCapability();
        // FP32 lanes per SM: 64 on sm_80 (A100), 128 on sm_86/89/90.
        int lanes = cc[0] == 8 && cc[1] == 0 ? 64 : 128;
        double gbs = 2 * memKHz * 1e3 * busBits / 8 / 1e9;
        double gflops = 2.0 * lanes * dev.multiprocessorCount() * clockKHz * 1e3 / 1e9;
        return new double[]{gbs, gflops};
    }

    /** Checks every version of every family, then times those that pass; prints a table to {@code out}. */
    public List<Result> run(PrintStream out, int reps) {
        double[] roof = roofline();
        out.printf("device: %s (%d SMs, cc %d.%d), roofline %.0f GB/s, %.0f GFLOP/s FP32%n", dev.name(), dev.multiprocessorCount(),
                dev.computeCapability()[0], dev.computeCapability()[1], roof[0], roof[1]);
        if (dev.isEmulator()) out.println("cuda-emu: checks are real; times are the emulator's CPU time and NOT meaningful as GPU performance");
        out.printf("%-22s %-32s %-6s %10s %10s %12s %8s%n", "family", "kernel", "check", "max err", "ms", "throughput", "% roof");
        List<Result> results = new ArrayList<>();
        for (Family f : families()) {
            if (f.bases().isEmpty()) {
                out.printf("%-22s %-32s %-6s%n", f.name(), "(no kernel in the PTX)", "MISSING");
                results.add(new Result(f.name(), "(none)", false, Double.NaN, Double.NaN, Double.NaN, f.unit()));
                continue;
            }
            for (String k : f.bases()) {
                Case c = f.factory().make(k);
                c.prepare();
                c.launch();
                double err = maxRelError(c.output(), f.reference());
                boolean ok = err <= f.tol();
                double ms = Double.NaN, thr = Double.NaN;
                if (ok) {
                    double[] times = new double[reps];
                    for (int r = 0; r < reps; r++) {
                        c.prepare();
                        flushL2();
                        times[r] = dev.time(c::launch);
                    }
                    Arrays.sort(times);
                    ms = times[reps / 2];
                    thr = f.work() / (ms * 1e-3) / 1e9;
                }
                double roofPct = 100 * thr / (f.unit().equals("GB/s") ? roof[0] : roof[1]);
                out.printf("%-22s %-32s %-6s %10.2e %10.3f %8.1f %-4s %7s%n", f.name(), k, ok ? "ok" : "FAIL", err, ms, thr, f.unit(),
                        dev.isEmulator() || !ok ? "-" : String.format("%.0f%%", roofPct));
                results.add(new Result(f.name(), k, ok, err, ms, thr, f.unit()));
            }
        }
        return results;
    }
}
