package mlip.viz;

import java.awt.Graphics2D;
import java.awt.FontMetrics;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A gray chest X-ray with a colour overlay of per-patch scores (patch-sentence similarity, attention,
 * semantic integrity) and a caption strip under it; panels side by side; atomic PNG writing.
 *
 * <pre>{@code
 * float[] image = study.image();                       // (96*96) gray, row-major
 * float[] sim = ...;                                   // (8*8) one score per 12-pixel patch, row-major
 * BufferedImage a = Heatmap.overlay(image, 96, sim, 8, "Small left pleural effusion.");
 * BufferedImage b = Heatmap.overlay(image, 96, other, 8, "No pneumothorax.");
 * Heatmap.write(Heatmap.row(List.of(a, b)), Path.of("runs/demo/pictures/study-17.png"));
 * }</pre>
 *
 * <p>Design note: the image and the scores are each min-max scaled on their own, so the picture shows
 * where the scores are high relative to the rest of this image, never their absolute level (a caption can
 * say that). The image is upscaled by an integer factor to at least 288 pixels a side (bilinear); the
 * scores are upsampled bilinearly between patch centres (as saliency maps are usually shown) or as flat
 * blocks, and laid over the gray at a fixed opacity {@link #ALPHA} in the {@link Colormap#JET} ramp, so
 * near a patch's centre the colour is that patch's own score's.
 */
public final class Heatmap {
    static {
        Pixels.headless();
    }

    /** Opacity of the score colours over the gray image. */
    public static final double ALPHA = 0.45;
    /** Gap in pixels between panels of {@link #row(List)}. */
    public static final int GAP = 8;

    private Heatmap() {
    }

    /**
     * The image with the patch scores overlaid (bilinear between patch centres) and the caption under it.
     *
     * @param image       (size*size) gray values, row-major, any range (min-max scaled for display)
     * @param size        image side in pixels
     * @param patchScores (grid*grid) one score per patch, row-major, any range (min-max scaled)
     * @param grid        patches per side; need not divide size
     * @param caption     text under the image, wrapped to its width; null or blank for no strip
     * @return a TYPE_INT_RGB picture, side = size * ceil(288 / size) wide, side + caption strip high
     */
    public static BufferedImage overlay(float[] image, int size, float[] patchScores, int grid, String caption) {
        return overlay(image, size, patchScores, grid, caption, true);
    }

    /**
     * As {@link #overlay(float[], int, float[], int, String)}, with {@code smooth=false} drawing each patch
     * as a flat block of its own colour.
     */
    public static BufferedImage overlay(float[] image, int size, float[] patchScores, int grid, String caption, boolean smooth) {
        String op = "Heatmap.overlay";
        Pixels.checkPositive(op, "size", size);
        Pixels.checkPositive(op, "grid", grid);
        Pixels.checkArray(op, "image", image, size * size, "size*size");
        Pixels.checkArray(op, "patchScores", patchScores, grid * grid, "grid*grid");
        int side = size * Pixels.scale(size);
        BufferedImage pic = scoreLayer(image, size, patchScores, grid, side, smooth, ALPHA);
        return withCaption(pic, caption);
    }

    /**
     * Panels side by side, top-aligned, {@link #GAP} white pixels apart, on white.
     *
     * @param panels at least one picture; heights may differ
     */
    public static BufferedImage row(List<BufferedImage> panels) {
        if (panels == null || panels.isEmpty()) throw new IllegalArgumentException("Heatmap.row: no panels");
        int w = -GAP, h = 0;
        for (int i = 0; i < panels.size(); i++) {
            BufferedImage p = panels.get(i);
            if (p == null) throw new IllegalArgumentException("Heatmap.row: panel " + i + " is null");
            w += p.getWidth() + GAP;
            h = Math.max(h, p.getHeight());
        }
        BufferedImage out = Pixels.white(w, h);
        Graphics2D g = out.createGraphics();
        int x = 0;
        for (BufferedImage p : panels) {
            g.drawImage(p, x, 0, null);
            x += p.getWidth() + GAP;
        }
        g.dispose();
        return out;
    }

    /**
     * Writes {@code img} as a PNG: parent directories are created, the bytes go to a temporary file in the
     * same directory that is then moved over {@code png} (atomically where the file system can), so a
     * reader never sees half a file.
     *
     * @throws UncheckedIOException naming {@code png} when writing fails
     */
    public static void write(BufferedImage img, Path png) {
        if (img == null) throw new IllegalArgumentException("Heatmap.write: image is null");
        Path abs = png.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + abs.getFileName(), ".tmp");
            if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer for image type " + img.getType());
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException(png + ": cannot write PNG: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the write already failed and says so; a stray temp file is the lesser problem
                }
            }
        }
    }

    /** (side x side) the gray image with the scores' colours blended in at opacity alpha. Arguments checked by the caller. */
    static BufferedImage scoreLayer(float[] image, int size, float[] scores, int grid, int side, boolean smooth, double alpha) {
        double[] gray = Pixels.displayGray(image, size, side);                 // (side*side) in [0, 1]
        double[] s = Pixels.minMax(scores);                                    // (grid*grid) in [0, 1]
        double[] t = smooth ? Pixels.bilinear(s, grid, side) : Pixels.blocks(s, grid, side);   // (side*side)
        BufferedImage out = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[side];
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) row[x] = Pixels.blend(gray[y * side + x], Colormap.JET.rgb(t[y * side + x]), alpha);
            out.setRGB(0, y, side, 1, row, 0, side);
        }
        return out;
    }

    /** {@code pic} with a strip of wrapped caption text under it, or {@code pic} itself for no caption. */
    static BufferedImage withCaption(BufferedImage pic, String caption) {
        FontMetrics fm = Pixels.metrics(Pixels.FONT);
        List<String> lines = Pixels.wrap(caption, fm, pic.getWidth() - 2 * Pixels.PAD);
        if (lines.isEmpty()) return pic;
        BufferedImage out = Pixels.white(pic.getWidth(), pic.getHeight() + Pixels.stripHeight(lines.size(), fm));
        Graphics2D g = Pixels.graphics(out);
        g.drawImage(pic, 0, 0, null);
        Pixels.drawLines(g, lines, Pixels.FONT, 0, pic.getHeight());
        g.dispose();
        return out;
    }

    /** {@code pic} with a one-line bold title strip above it (the title is wrapped if it is too long). */
    static BufferedImage withTitle(BufferedImage pic, String title) {
        FontMetrics fm = Pixels.metrics(Pixels.TITLE_FONT);
        List<String> lines = Pixels.wrap(title, fm, pic.getWidth() - 2 * Pixels.PAD);
        if (lines.isEmpty()) return pic;
        int h = Pixels.stripHeight(lines.size(), fm);
        BufferedImage out = Pixels.white(pic.getWidth(), pic.getHeight() + h);
        Graphics2D g = Pixels.graphics(out);
        Pixels.drawLines(g, lines, Pixels.TITLE_FONT, 0, 0);
        g.drawImage(pic, 0, h, null);
        g.dispose();
        return out;
    }
}
