package mlip.data.synth;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/*
 * Design note — rendering and "scanners".
 *
 * The image is composed in a fixed order: soft tissue of the body, minus lung air (scaled by how much the
 * heart, aortic knob and findings "fill" it), plus lung markings (vessels radiating from the hila, hidden by
 * opacities and absent in a pneumothorax), plus bones (posterior and anterior ribs, clavicles, spine), minus
 * the tracheal and gastric air columns, plus thin lines (pleural line, Kerley lines). Then a Gaussian blur,
 * then the scanner's response (contrast, brightness, gamma, vignetting), an optional laterality marker
 * ("R" at the image's top left = the patient's right, "L" at the top right = the patient's left), and
 * Gaussian pixel noise. The scanner id is part of the study; its settings vary a little per study too, so a
 * model cannot key on absolute gray levels.
 */
final class Renderer {

    /** Scanner response: gamma, contrast, brightness, noise sigma, blur sigma (in px at 96 px), vignette, marker. */
    record Scanner(double gamma, double contrast, double brightness, double noise, double blur96, double vignette, char marker) {
    }

    static final Scanner[] SCANNERS = {
        new Scanner(1.00, 1.00, 0.00, 0.012, 0.55, 0.00, ' '),
        new Scanner(0.80, 0.85, 0.05, 0.025, 0.85, 0.10, 'L'),
        new Scanner(1.25, 1.10, -0.04, 0.018, 0.45, 0.00, ' '),
        new Scanner(1.05, 0.75, 0.09, 0.032, 1.05, 0.15, 'R'),
    };

    private static final double BRONCHUS_T = Math.cos(0.87);
    private static final double BRONCHUS_Y = Math.sin(0.87);

    record Result(float[] image, Map<Finding, float[]> masks) {
    }

    /**
     * Draws one study.
     *
     * @param findingRng draws the findings' shapes (independent of size)
     * @param noiseRng   draws the per-study scanner jitter and the pixel noise
     */
    static Result render(Anatomy a, List<FindingInstance> findings, int scannerId, SplittableRandom findingRng,
                         SplittableRandom noiseRng, int n, SynthCxr.Hardness hard) {
        // cardiomegaly changes the anatomy first, so the other findings are placed around the final heart
        for (FindingInstance f : findings) {
            if (f.finding() == Finding.CARDIOMEGALY) {
                a.enlargeHeart(f.severity(), findingRng.nextDouble(0.97, 1.03));
            }
        }
        List<Lesion> lesions = new ArrayList<>();
        for (FindingInstance f : findings) {
            lesions.add(new Lesion(f, a, findingRng, hard.findingContrast()));
        }
        int L = lesions.size();
        float[] img = new float[n * n];
        float[][] mask = new float[L][n * n];
        float[][] score = new float[L][n * n];
        boolean[] visible = new boolean[n * n]; // lung pixel not behind the heart: where lung findings can be seen
        double pixel = 1.0 / n;
        double[] c = new double[2];
        // canonical coordinates are affine in (i, j): x = x0 + xj*j + xi*i (same for y)
        a.toCanonical(0.5 / n, 0.5 / n, c);
        double x0 = c[0];
        double y0 = c[1];
        a.toCanonical(1.5 / n, 0.5 / n, c);
        double xj = c[0] - x0;
        double yj = c[1] - y0;
        a.toCanonical(0.5 / n, 1.5 / n, c);
        double xi = c[0] - x0;
        double yi = c[1] - y0;
        float[] marks = markings(a, n, x0, y0, xj, yj, xi, yi);
        // parenchymal texture: sum of plane waves, each cos(A*j + B*i + C) split into per-column and per-row factors
        int W = a.texture.length;
        double[][] colCos = new double[W][n];
        double[][] colSin = new double[W][n];
        double[][] rowCos = new double[W][n];
        double[][] rowSin = new double[W][n];
        for (int w = 0; w < W; w++) {
            double[] wave = a.texture[w];
            double A = wave[0] * xj + wave[1] * yj;
            double B = wave[0] * xi + wave[1] * yi;
            double C = wave[0] * x0 + wave[1] * y0 + wave[2];
            for (int q = 0; q < n; q++) {
                colCos[w][q] = wave[3] * Math.cos(A * q);
                colSin[w][q] = wave[3] * Math.sin(A * q);
                rowCos[w][q] = Math.cos(B * q + C);
                rowSin[w][q] = Math.sin(B * q + C);
            }
        }
        Lesion.Px px = new Lesion.Px();

        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double x = x0 + xj * j + xi * i;
                double y = y0 + yj * j + yi * i;
                int s = Anatomy.sideOf(x);
                double t = Anatomy.lateral(s, x);
                double lsd = a.lungSd(s, t, y);
                double lung = Lesion.clamp01((lsd + 0.004) / 0.014);
                double ax = Math.abs(x - 0.5);

                // body: neck widening into the shoulders, thinner (darker) towards the flanks
                double hw = bodyHalfWidth(y);
                double body = Lesion.clamp01((hw - ax) / 0.012);
                double thick = Math.sqrt(Math.max(0, 1 - (ax / hw) * (ax / hw)));
                double v = 0.03 + body * a.softTissue * (0.55 + 0.45 * thick);
                double dia = a.diaphragmY(s, t);
                v += 0.04 * body * Lesion.clamp01((y - dia) / 0.02); // upper abdomen under the domes
                if (a.breasts && y > 0.55 && t > 0.05) {
                    double bt = (t - 0.27) / 0.11;
                    double by = (y - 0.76) / 0.08;
                    v += body * a.breastAmp * Math.exp(-(bt * bt + by * by));
                }

                // what fills the lung air: heart, aortic knob, findings
                double hr = a.heartR(x, y);
                double heart = Lesion.clamp01((1 - hr) * a.heartA / 0.006 + 0.5);
                double kx = (x - 0.56) / 0.032;
                double ky = (y - 0.295) / 0.032;
                double knob = Lesion.clamp01((1 - Math.sqrt(kx * kx + ky * ky)) * 0.032 / 0.005 + 0.5);
                double clear = (1 - heart) * (1 - knob);
                double gap = 0;
                double lines = 0;
                int p = i * n + j;
                visible[p] = lsd > 0 && heart < 0.5;
                for (int k = 0; k < L; k++) {
                    lesions.get(k).eval(a, s, t, x, y, lsd, pixel, px);
                    clear *= 1 - Math.min(1, px.fill);
                    gap = Math.max(gap, px.gap);
                    lines += px.line;
                    boolean lungFinding = lesions.get(k).spec.finding() != Finding.CARDIOMEGALY;
                    mask[k][p] = px.mask && (!lungFinding || visible[p]) ? 1f : 0f;
                    score[k][p] = (float) (lungFinding && !visible[p] ? Double.NEGATIVE_INFINITY : px.score);
                }

                // lung air, darker laterally and at the apices than at the bases and hila
                double zonal = 1 - 0.18 * smooth(0.58, 0.82, y) - 0.12 * Math.exp(-sq((t - 0.09) / 0.06));
                double tex = 0;
                if (lung > 0) {
                    for (int w = 0; w < W; w++) {
                        tex += colCos[w][j] * rowCos[w][i] - colSin[w][j] * rowSin[w][i];
                    }
                }
                v -= lung * clear * (a.lungDark * zonal + tex) * (1 + 0.16 * gap * hard.findingContrast());
                v += lung * clear * (1 - gap) * marks[p];
                v += lines * lung;

                // bones
                v += body * bones(a, s, t, y, ax);
                // air columns: trachea and main bronchi, gastric bubble under the left dome
                double tr = Lesion.clamp01((0.011 - ax) / 0.004) * Lesion.clamp01((0.30 - y) / 0.01);
                double br = y > 0.29 && y < 0.38 && t < 0.07
                        ? Math.exp(-sq(Lesion.segmentDistance(t, y, 0.03, 0.335, BRONCHUS_T, BRONCHUS_Y, 0.035) / 0.007)) : 0;
                v -= 0.09 * tr + 0.05 * br * (1 - tr);
                if (a.gastricBubble && s == Anatomy.LEFT) {
                    double gx = (t - 0.2) / 0.045;
                    double gy = (y - (a.diaphragmY(s, 0.2) + 0.035)) / 0.022;
                    v -= 0.14 * Lesion.clamp01((1 - Math.sqrt(gx * gx + gy * gy)) / 0.25);
                }
                img[p] = (float) v;
            }
        }

        // ground-truth masks (never empty: fall back to the best-scoring pixel)
        Map<Finding, float[]> masks = new EnumMap<>(Finding.class);
        for (int k = 0; k < L; k++) {
            float[] m = mask[k];
            boolean any = false;
            for (float f : m) {
                if (f > 0) {
                    any = true;
                    break;
                }
            }
            if (!any) {
                int best = 0;
                for (int q = 1; q < m.length; q++) {
                    if (score[k][q] > score[k][best]) {
                        best = q;
                    }
                }
                m[best] = 1f;
            }
            masks.put(lesions.get(k).spec.finding(), m);
        }

        applyScanner(img, n, SCANNERS[scannerId], noiseRng, hard);
        return new Result(img, masks);
    }

    /**
     * Lung markings as a pixel layer: hilar blobs plus the vessel trees, each segment drawn only over its
     * own pixel bounding box (pixel = inverse of the affine canonical map).
     */
    private static float[] markings(Anatomy a, int n, double x0, double y0, double xj, double yj, double xi, double yi) {
        float[] out = new float[n * n];
        double det = xj * yi - xi * yj;
        for (int s = 0; s < 2; s++) {
            for (double[] g : a.vessels.get(s)) {
                double[] jiA = toPixel(Anatomy.xOf(s, g[0]), g[1], x0, y0, xj, yj, xi, yi, det);
                double[] jiB = toPixel(Anatomy.xOf(s, g[2]), g[3], x0, y0, xj, yj, xi, yi, det);
                double margin = 3 * g[4] * n * 1.2 + 1;
                int jlo = Math.max(0, (int) Math.floor(Math.min(jiA[0], jiB[0]) - margin));
                int jhi = Math.min(n - 1, (int) Math.ceil(Math.max(jiA[0], jiB[0]) + margin));
                int ilo = Math.max(0, (int) Math.floor(Math.min(jiA[1], jiB[1]) - margin));
                int ihi = Math.min(n - 1, (int) Math.ceil(Math.max(jiA[1], jiB[1]) + margin));
                double st = g[2] - g[0];
                double sy = g[3] - g[1];
                double len2 = st * st + sy * sy;
                for (int i = ilo; i <= ihi; i++) {
                    for (int j = jlo; j <= jhi; j++) {
                        double x = x0 + xj * j + xi * i;
                        if (Anatomy.sideOf(x) != s) {
                            continue;
                        }
                        double t = Anatomy.lateral(s, x);
                        double y = y0 + yj * j + yi * i;
                        double u = len2 == 0 ? 0 : Lesion.clamp01(((t - g[0]) * st + (y - g[1]) * sy) / len2);
                        double dt = t - (g[0] + u * st);
                        double dy = y - (g[1] + u * sy);
                        double w = g[4] + u * (g[5] - g[4]);
                        double d2 = (dt * dt + dy * dy) / (w * w);
                        if (d2 < 9) {
                            out[i * n + j] += (float) ((g[6] + u * (g[7] - g[6])) * Math.exp(-d2));
                        }
                    }
                }
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double x = x0 + xj * j + xi * i;
                double y = y0 + yj * j + yi * i;
                int s = Anatomy.sideOf(x);
                double ht = (Anatomy.lateral(s, x) - a.hilumT(s)) / 0.022;
                double hy = (y - a.hilumY(s)) / 0.03;
                double h2 = ht * ht + hy * hy;
                double v = out[i * n + j] + (h2 < 12 ? 0.06 * Math.exp(-h2) : 0);
                out[i * n + j] = (float) Math.min(v, 0.15);
            }
        }
        return out;
    }

    /** Half-width of the body at height y: the neck widening into the shoulders. */
    static double bodyHalfWidth(double y) {
        return 0.16 + 0.30 * smooth(0.0, 0.14, y);
    }

    /** Canonical (x, y) to fractional pixel (j, i), inverting x = x0 + xj*j + xi*i, y = y0 + yj*j + yi*i. */
    private static double[] toPixel(double x, double y, double x0, double y0, double xj, double yj, double xi, double yi, double det) {
        double ex = x - x0;
        double ey = y - y0;
        return new double[] {(ex * yi - xi * ey) / det, (xj * ey - ex * yj) / det};
    }

    /** Ribs (posterior: arched, bright cortex; anterior: faint, sloping down medially), clavicles, spine. */
    private static double bones(Anatomy a, int s, double t, double y, double ax) {
        double v = 0;
        if (t > 0.02 && t < 0.46) {
            double fade = smooth(0.02, 0.06, t) * (1 - smooth(0.42, 0.46, t));
            double arch = -0.015 + 1.9 * sq(t - 0.13);
            int kc = (int) ((y - a.ribY0 - arch) / a.ribSpacing + 10) - 10; // floor for y in range
            for (int k = Math.max(0, kc - 1); k <= Math.min(9, kc + 2); k++) {
                double yk = a.ribY0 + k * a.ribSpacing + arch;
                double w = 0.008 + 0.0008 * k;
                double d = Math.abs(y - yk) / w;
                if (d < 1.3) {
                    double band = Lesion.clamp01((1.15 - d) / 0.3);
                    double e = Math.min(d, 1);
                    v += 0.05 * fade * band * (0.65 + 0.35 * e * e * e * e);
                }
            }
            if (t > 0.13) {
                double fa = smooth(0.13, 0.18, t) * (1 - smooth(0.4, 0.44, t));
                double slope = 0.30 * (0.40 - t);
                int kc2 = (int) ((y - 0.24 - slope) / 0.075 + 10) - 10;
                for (int k = Math.max(0, kc2 - 1); k <= Math.min(5, kc2 + 2); k++) {
                    double yk = 0.24 + k * 0.075 + slope;
                    double d = Math.abs(y - yk) / 0.007;
                    if (d < 1.3) {
                        v += 0.022 * fa * Lesion.clamp01((1.15 - d) / 0.3);
                    }
                }
            }
            if (t > 0.03 && t < 0.34) {
                double yc = 0.17 - 0.19 * (t - 0.035) + 0.012 * Math.sin(Math.PI * (t - 0.035) / 0.3);
                double d = Math.abs(y - yc) / 0.011;
                v += 0.09 * smooth(0.03, 0.05, t) * (1 - smooth(0.31, 0.34, t)) * Lesion.clamp01((1.15 - d) / 0.3);
            }
        }
        if (ax < 0.04) {
            double spine = Lesion.clamp01((0.034 - ax) / 0.006);
            double disc = 0.75 + 0.25 * Math.cos(2 * Math.PI * (y - a.ribY0) / 0.045);
            v += 0.05 * spine * disc;
        }
        return v;
    }

    /** Blur, scanner response with per-study jitter, laterality marker, noise; clamps to [0,1]. */
    private static void applyScanner(float[] img, int n, Scanner sc, SplittableRandom r, SynthCxr.Hardness hard) {
        double gamma = sc.gamma() * r.nextDouble(0.92, 1.08);
        double contrast = sc.contrast() * r.nextDouble(0.93, 1.07);
        double bright = sc.brightness() + r.nextDouble(-0.03, 0.03);
        double noise = sc.noise() * r.nextDouble(0.8, 1.2) * hard.noise();
        gaussianBlur(img, n, sc.blur96() * n / 96.0);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double u = (j + 0.5) / n - 0.5;
                double w = (i + 0.5) / n - 0.5;
                double v = 0.5 + contrast * (img[i * n + j] - 0.5) + bright;
                v *= 1 - sc.vignette() * 2 * (u * u + w * w);
                img[i * n + j] = (float) Math.pow(Lesion.clamp01(v), gamma);
            }
        }
        if (sc.marker() != ' ') {
            drawMarker(img, n, sc.marker());
        }
        for (int p = 0; p < img.length; p++) {
            img[p] = (float) Lesion.clamp01(img[p] + noise * r.nextGaussian());
        }
    }

    private static final String[] GLYPH_L = {"1....", "1....", "1....", "1....", "1....", "1....", "11111"};
    private static final String[] GLYPH_R = {"1111.", "1...1", "1...1", "1111.", "1.1..", "1..1.", "1...1"};

    /** "R" at the top left (patient's right) or "L" at the top right (patient's left). */
    private static void drawMarker(float[] img, int n, char which) {
        String[] g = which == 'L' ? GLYPH_L : GLYPH_R;
        int cell = Math.max(1, Math.round(n / 96f));
        int margin = Math.max(2, n / 32);
        int x0 = which == 'L' ? n - margin - 5 * cell : margin;
        for (int r = 0; r < 7; r++) {
            for (int q = 0; q < 5; q++) {
                if (g[r].charAt(q) != '1') {
                    continue;
                }
                for (int dy = 0; dy < cell; dy++) {
                    for (int dx = 0; dx < cell; dx++) {
                        int yy = margin + r * cell + dy;
                        int xx = x0 + q * cell + dx;
                        if (yy < n && xx >= 0 && xx < n) {
                            img[yy * n + xx] = 0.93f;
                        }
                    }
                }
            }
        }
    }

    /** Separable Gaussian blur with clamped borders. */
    static void gaussianBlur(float[] img, int n, double sigma) {
        if (sigma < 0.2) {
            return;
        }
        int rad = (int) Math.ceil(3 * sigma);
        float[] k = new float[2 * rad + 1];
        double sum = 0;
        for (int q = -rad; q <= rad; q++) {
            k[q + rad] = (float) Math.exp(-0.5 * q * q / (sigma * sigma));
            sum += k[q + rad];
        }
        for (int q = 0; q < k.length; q++) {
            k[q] /= (float) sum;
        }
        float[] tmp = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                float acc = 0;
                for (int q = -rad; q <= rad; q++) {
                    int jj = Math.min(n - 1, Math.max(0, j + q));
                    acc += k[q + rad] * img[i * n + jj];
                }
                tmp[i * n + j] = acc;
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                float acc = 0;
                for (int q = -rad; q <= rad; q++) {
                    int ii = Math.min(n - 1, Math.max(0, i + q));
                    acc += k[q + rad] * tmp[ii * n + j];
                }
                img[i * n + j] = acc;
            }
        }
    }

    static double smooth(double e0, double e1, double v) {
        double u = Lesion.clamp01((v - e0) / (e1 - e0));
        return u * u * (3 - 2 * u);
    }

    static double sq(double v) {
        return v * v;
    }
}
