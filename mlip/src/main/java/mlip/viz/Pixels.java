package mlip.viz;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Shared raster helpers of the package: argument checks, min-max scaling, upsampling, text.
 *
 * <p>Design note: upsampling is done here pixel by pixel rather than by Java2D's interpolating
 * {@code drawImage}, so every picture is the same on every JDK and the tests can predict pixels exactly.
 * A source grid of n x n cells maps onto side x side pixels with cell centres at
 * {@code (i + 0.5) * side / n}; bilinear sampling clamps at the border (no fade to black).
 */
final class Pixels {
    static {
        headless();      // before any AWT class below is touched
    }

    /** Pictures are upscaled by an integer factor to at least this many pixels a side. */
    static final int MIN_SIDE = 288;
    static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 13);
    static final int PAD = 6;

    private Pixels() {
    }

    /** Sets {@code java.awt.headless=true} unless the caller chose a value. Idempotent. */
    static void headless() {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    static void checkPositive(String op, String name, int v) {
        if (v <= 0) throw new IllegalArgumentException(op + ": " + name + " must be > 0, got " + v);
    }

    /** Checks {@code a} is non-null, has {@code length} elements and only finite values. */
    static void checkArray(String op, String name, float[] a, int length, String shape) {
        if (a == null) throw new IllegalArgumentException(op + ": " + name + " is null");
        if (a.length != length)
            throw new IllegalArgumentException(op + ": " + name + " has " + a.length + " values, expected " + shape + " = " + length);
        for (int i = 0; i < a.length; i++)
            if (!Float.isFinite(a[i])) throw new IllegalArgumentException(op + ": " + name + "[" + i + "] is " + a[i]);
    }

    /** Integer upscale factor so that size * factor >= {@link #MIN_SIDE}. */
    static int scale(int size) {
        return Math.max(1, (MIN_SIDE + size - 1) / size);
    }

    /** (n) values min-max scaled to [0, 1]; a constant array maps to 0.5 everywhere. */
    static double[] minMax(float[] v) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (float x : v) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        double[] out = new double[v.length];
        double range = hi - lo;
        for (int i = 0; i < v.length; i++) out[i] = range > 0 ? (v[i] - lo) / range : 0.5;
        return out;
    }

    /** (n*n) row-major -> (side*side) bilinear, cell centres at (i + 0.5) * side / n, clamped at the border. */
    static double[] bilinear(double[] src, int n, int side) {
        double[] out = new double[side * side];
        int[] i0 = new int[side], i1 = new int[side];
        double[] f = new double[side];
        for (int x = 0; x < side; x++) {
            double u = Math.max(0, Math.min(n - 1, (x + 0.5) * n / side - 0.5));
            i0[x] = (int) Math.floor(u);
            i1[x] = Math.min(n - 1, i0[x] + 1);
            f[x] = u - i0[x];
        }
        for (int y = 0; y < side; y++) {
            int r0 = i0[y] * n, r1 = i1[y] * n;
            double fy = f[y];
            for (int x = 0; x < side; x++) {
                double top = src[r0 + i0[x]] * (1 - f[x]) + src[r0 + i1[x]] * f[x];
                double bot = src[r1 + i0[x]] * (1 - f[x]) + src[r1 + i1[x]] * f[x];
                out[y * side + x] = top * (1 - fy) + bot * fy;
            }
        }
        return out;
    }

    /** (n*n) row-major -> (side*side) nearest cell: pixel (x, y) takes cell (y*n/side, x*n/side). */
    static double[] blocks(double[] src, int n, int side) {
        double[] out = new double[side * side];
        for (int y = 0; y < side; y++) {
            int r = (int) ((long) y * n / side) * n;
            for (int x = 0; x < side; x++) out[y * side + x] = src[r + (int) ((long) x * n / side)];
        }
        return out;
    }

    /** Cell index (0..n-1) of pixel coordinate p on a side-pixel axis, as in {@link #blocks}. */
    static int cell(int p, int n, int side) {
        return (int) ((long) p * n / side);
    }

    /** (side*side) display gray in [0, 1]: the image min-max scaled, then upscaled bilinearly. */
    static double[] displayGray(float[] image, int size, int side) {
        return bilinear(minMax(image), size, side);
    }

    /** A gray value in [0, 1] blended with packed colour c at opacity alpha -> packed RGB. */
    static int blend(double gray, int c, double alpha) {
        double r = ((c >> 16) & 0xff) / 255.0, g = ((c >> 8) & 0xff) / 255.0, b = (c & 0xff) / 255.0;
        return Colormap.pack((1 - alpha) * gray + alpha * r, (1 - alpha) * gray + alpha * g, (1 - alpha) * gray + alpha * b);
    }

    static int gray(double v) {
        return Colormap.pack(v, v, v);
    }

    /** A white TYPE_INT_RGB image. */
    static BufferedImage white(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    static Graphics2D graphics(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        return g;
    }

    /** Metrics of a font, from a scratch image (headless-safe). */
    static FontMetrics metrics(Font font) {
        Graphics2D g = graphics(new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB));
        try {
            return g.getFontMetrics(font);
        } finally {
            g.dispose();
        }
    }

    /**
     * Greedy word wrap of {@code text} into lines at most {@code width} pixels wide in font {@code fm};
     * a word wider than a line is broken between characters. Null or blank text gives no lines.
     */
    static List<String> wrap(String text, FontMetrics fm, int width) {
        List<String> lines = new ArrayList<>();
        if (text == null || text.isBlank()) return lines;
        for (String para : text.strip().split("\\R")) {
            StringBuilder line = new StringBuilder();
            for (String word : para.strip().split("\\s+")) {
                if (word.isEmpty()) continue;
                String candidate = line.isEmpty() ? word : line + " " + word;
                if (fm.stringWidth(candidate) <= width) {
                    line.setLength(0);
                    line.append(candidate);
                    continue;
                }
                if (!line.isEmpty()) {
                    lines.add(line.toString());
                    line.setLength(0);
                }
                while (fm.stringWidth(word) > width && word.length() > 1) {   // break an overlong word
                    int k = word.length() - 1;
                    while (k > 1 && fm.stringWidth(word.substring(0, k)) > width) k--;
                    lines.add(word.substring(0, k));
                    word = word.substring(k);
                }
                line.append(word);
            }
            if (!line.isEmpty()) lines.add(line.toString());
        }
        return lines;
    }

    /** Height of a text strip holding {@code lines} lines (0 for none). */
    static int stripHeight(int lines, FontMetrics fm) {
        return lines == 0 ? 0 : 2 * PAD + lines * fm.getHeight();
    }

    /** Draws {@code lines} left-aligned in black from (x + PAD, y + PAD). */
    static void drawLines(Graphics2D g, List<String> lines, Font font, int x, int y) {
        g.setFont(font);
        g.setColor(Color.BLACK);
        FontMetrics fm = g.getFontMetrics();
        for (int i = 0; i < lines.size(); i++) g.drawString(lines.get(i), x + PAD, y + PAD + i * fm.getHeight() + fm.getAscent());
    }
}
