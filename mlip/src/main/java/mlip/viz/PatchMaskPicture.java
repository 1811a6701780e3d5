package mlip.viz;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * What the masked image encoder saw (DESIGN.md 7.3): left, the semantic-integrity score of every patch as
 * a heatmap over the image; right, the image with the masked (dropped) patches greyed out and hatched and
 * the kept patches outlined.
 *
 * <pre>{@code
 * // r: (N) estimator scores of one image, keep: (K) I32 kept patch indices from MlipModel.ImageOut
 * BufferedImage pic = PatchMaskPicture.of(image, 96, 8, r, keep);   // image (96*96), grid 8 -> N = 64
 * Heatmap.write(pic, Path.of("runs/demo/pictures/mask-17.png"));
 * }</pre>
 *
 * <p>Design note: the scores are drawn as flat blocks (one colour per patch, no smoothing), because the
 * estimator scores patches, not pixels, and the blocks line up with the right panel's mask. A masked
 * patch keeps a faint trace of the anatomy ({@link #MASK_TRACE} of its gray, the rest pulled to
 * {@link #MASK_GRAY}, under diagonal hatching) so the two panels can be compared by eye. Patch p covers rows and columns whose
 * {@code pixel * grid / side} equals {@code p / grid} and {@code p % grid}, so size need not be a multiple
 * of grid.
 */
public final class PatchMaskPicture {
    static {
        Pixels.headless();
    }

    /** Opacity of the score colours in the left panel (higher than {@link Heatmap#ALPHA}: the scores are the point). */
    public static final double SCORE_ALPHA = 0.6;
    /** Share of the image gray left in a masked patch; the rest is {@link #MASK_GRAY}. */
    public static final double MASK_TRACE = 0.25;
    /** Gray level in [0, 1] a masked patch is pulled to. */
    public static final double MASK_GRAY = 0.62;
    /** Gray level of the hatch lines over masked patches (every 8th diagonal, 2 pixels wide). */
    public static final double HATCH_GRAY = 0.40;
    /** Colour of the kept patches' outlines. */
    public static final int OUTLINE_RGB = 0x00E060;

    private PatchMaskPicture() {
    }

    /**
     * The two-panel picture: scores as blocks over the image, then the image as the encoder saw it.
     *
     * @param image       (size*size) gray values, row-major, any range (min-max scaled for display)
     * @param size        image side in pixels
     * @param grid        patches per side, N = grid*grid
     * @param scores      (N) semantic-integrity score per patch, row-major, any range (min-max scaled)
     * @param keptIndices (K) distinct patch indices in [0, N) the encoder kept, any order; K may be 0 or N
     * @return two titled panels of side = size * ceil(288 / size) pixels, {@link Heatmap#GAP} apart
     */
    public static BufferedImage of(float[] image, int size, int grid, float[] scores, int[] keptIndices) {
        String op = "PatchMaskPicture.of";
        Pixels.checkPositive(op, "size", size);
        Pixels.checkPositive(op, "grid", grid);
        if (grid > size) throw new IllegalArgumentException(op + ": grid " + grid + " > size " + size);
        Pixels.checkArray(op, "image", image, size * size, "size*size");
        int n = grid * grid;
        Pixels.checkArray(op, "scores", scores, n, "grid*grid");
        if (keptIndices == null) throw new IllegalArgumentException(op + ": keptIndices is null");
        boolean[] kept = new boolean[n];                                       // (N)
        for (int k : keptIndices) {
            if (k < 0 || k >= n) throw new IllegalArgumentException(op + ": kept index " + k + " outside [0, " + n + ")");
            if (kept[k]) throw new IllegalArgumentException(op + ": kept index " + k + " appears twice");
            kept[k] = true;
        }
        int side = size * Pixels.scale(size);

        float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
        for (float s : scores) {
            lo = Math.min(lo, s);
            hi = Math.max(hi, s);
        }
        BufferedImage left = Heatmap.scoreLayer(image, size, scores, grid, side, false, SCORE_ALPHA);
        BufferedImage right = masked(image, size, grid, kept, side);
        return Heatmap.row(List.of(
                Heatmap.withTitle(left, String.format("semantic integrity [%.3g, %.3g]", lo, hi)),
                Heatmap.withTitle(right, "kept " + keptIndices.length + " of " + n + " patches")));
    }

    /** (side x side) the image with masked patches greyed and hatched and kept ones outlined. */
    static BufferedImage masked(float[] image, int size, int grid, boolean[] kept, int side) {
        double[] gray = Pixels.displayGray(image, size, side);                 // (side*side) in [0, 1]
        int[] cell = new int[side], edge = new int[side];                     // (side) cell of a pixel, distance to its cell's nearest edge
        int start = 0;
        for (int p = 0; p <= side; p++) {
            if (p == side || (p > 0 && Pixels.cell(p, grid, side) != Pixels.cell(p - 1, grid, side))) {
                for (int q = start; q < p; q++) {
                    cell[q] = Pixels.cell(q, grid, side);
                    edge[q] = Math.min(q - start, p - 1 - q);
                }
                start = p;
            }
        }
        int thick = outlineWidth(side, grid);
        int hatch = Pixels.gray(HATCH_GRAY);
        BufferedImage out = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[side];
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                double g = gray[y * side + x];
                if (kept[cell[y] * grid + cell[x]]) {
                    row[x] = Math.min(edge[x], edge[y]) < thick ? OUTLINE_RGB : Pixels.gray(g);
                } else {
                    row[x] = (x + y) % 8 < 2 ? hatch : Pixels.gray(MASK_TRACE * g + (1 - MASK_TRACE) * MASK_GRAY);
                }
            }
            out.setRGB(0, y, side, 1, row, 0, side);
        }
        return out;
    }

    /** Outline width in pixels inside each kept patch: 1/12 of a patch, at least 1. */
    static int outlineWidth(int side, int grid) {
        return Math.max(1, side / grid / 12);
    }
}
