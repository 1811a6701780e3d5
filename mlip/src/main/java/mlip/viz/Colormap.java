package mlip.viz;

/**
 * Colour ramps from a value t in [0, 1] (cold) to packed 0xRRGGBB (hot).
 *
 * <p>Design note: two ramps only. {@link #JET} is the classic saliency-map ramp (dark blue, cyan, yellow,
 * dark red), used for overlays on gray X-rays because its hues stand apart from any gray. {@link #INFERNO}
 * (black, purple, orange, pale yellow; perceptually ordered, after matplotlib's ramp, piecewise linear
 * through nine stops) is used where the colour alone carries the value, as in confusion matrices.
 * {@link #position(int)} inverts a ramp (nearest of 256 samples), so tests can ask "how hot is this pixel".
 *
 * <pre>{@code
 * int rgb = Colormap.JET.rgb(0.9);            // 0xRRGGBB, a red
 * double t = Colormap.JET.position(rgb);      // ~0.9
 * }</pre>
 */
public enum Colormap {
    /** Matlab's jet: (0, 0, 0.5) at 0 through blue, cyan, yellow, red to (0.5, 0, 0) at 1. */
    JET {
        @Override
        double[] unit(double t) {
            return new double[]{clamp01(1.5 - Math.abs(4 * t - 3)), clamp01(1.5 - Math.abs(4 * t - 2)),
                    clamp01(1.5 - Math.abs(4 * t - 1))};
        }
    },
    /** Inferno-like: black through purple and orange to pale yellow. */
    INFERNO {
        // (9, 3): stops at t = 0, 1/8, ..., 1, sampled from matplotlib's inferno
        private static final int[][] STOPS = {{0, 0, 4}, {31, 12, 72}, {85, 15, 109}, {136, 34, 106},
                {186, 54, 85}, {227, 89, 51}, {249, 140, 10}, {249, 201, 50}, {252, 255, 164}};

        @Override
        double[] unit(double t) {
            double u = t * (STOPS.length - 1);
            int i = Math.min((int) Math.floor(u), STOPS.length - 2);
            double f = u - i;
            double[] c = new double[3];
            for (int k = 0; k < 3; k++) c[k] = ((1 - f) * STOPS[i][k] + f * STOPS[i + 1][k]) / 255.0;
            return c;
        }
    };

    private int[] table;     // (256) packed RGB, for position()

    /** (3) RGB in [0, 1] for t already clamped to [0, 1]. */
    abstract double[] unit(double t);

    /** Packed 0xRRGGBB for t; t is clamped to [0, 1], NaN counts as 0. */
    public int rgb(double t) {
        double[] c = unit(Double.isNaN(t) ? 0 : clamp01(t));
        return pack(c[0], c[1], c[2]);
    }

    /**
     * The ramp position in [0, 1] whose colour is nearest (squared RGB distance) to {@code rgb}; the
     * inverse of {@link #rgb(double)} to within 1/255 for colours on the ramp.
     */
    public double position(int rgb) {
        int[] tab = table();
        int best = 0;
        long bestD = Long.MAX_VALUE;
        for (int i = 0; i < tab.length; i++) {
            long d = dist2(tab[i], rgb);
            if (d < bestD) {
                bestD = d;
                best = i;
            }
        }
        return best / 255.0;
    }

    private int[] table() {
        int[] tab = table;
        if (tab == null) {                 // racy but idempotent: every thread computes the same table
            tab = new int[256];
            for (int i = 0; i < 256; i++) tab[i] = rgb(i / 255.0);
            table = tab;
        }
        return tab;
    }

    static long dist2(int a, int b) {
        long dr = ((a >> 16) & 0xff) - ((b >> 16) & 0xff);
        long dg = ((a >> 8) & 0xff) - ((b >> 8) & 0xff);
        long db = (a & 0xff) - (b & 0xff);
        return dr * dr + dg * dg + db * db;
    }

    static double clamp01(double v) {
        return v < 0 ? 0 : (v > 1 ? 1 : v);
    }

    /** Packs RGB in [0, 1] (clamped) to 0xRRGGBB with rounding. */
    static int pack(double r, double g, double b) {
        return (to8(r) << 16) | (to8(g) << 8) | to8(b);
    }

    static int to8(double v) {
        return (int) Math.round(clamp01(v) * 255);
    }
}
