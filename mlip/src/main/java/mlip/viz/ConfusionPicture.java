package mlip.viz;

import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Font;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * A confusion matrix as a heatmap: row = true class, column = predicted class, the count in every cell,
 * labelled axes and a colour bar.
 *
 * <pre>{@code
 * int[][] c = {{180, 12, 8}, {20, 170, 10}, {5, 15, 180}};   // (C, C) counts, [true][predicted]
 * BufferedImage pic = ConfusionPicture.of(c, List.of("Atelectasis", "Edema", "Pleural Effusion"),
 *         "zero-shot synthcxr-5x200 (acc 0.883)");
 * Heatmap.write(pic, Path.of("runs/demo/pictures/confusion.png"));
 * }</pre>
 *
 * <p>Design note: a cell's colour is its share of its row (count / row total: the fraction of the true
 * class predicted as that column, so the diagonal reads as per-class recall), in the {@link Colormap#INFERNO}
 * ramp from 0 to 1; the count itself is printed in the cell. Colouring by share rather than raw count keeps
 * a rare class's row as readable as a frequent one's. An all-zero row is drawn cold (share 0). The counts
 * are drawn in black or white, whichever stands out against the cell.
 */
public final class ConfusionPicture {
    static {
        Pixels.headless();
    }

    /** Smallest cell side in pixels (cells grow to fit their count). */
    public static final int MIN_CELL = 64;
    private static final int BAR_W = 16;

    private ConfusionPicture() {
    }

    /** Where the matrix is drawn: cell (i, j) has its top-left corner at (x0 + j*cell, y0 + i*cell). */
    record Layout(int width, int height, int x0, int y0, int cell, int titleH, int labelW, int labelH, int barX) {
    }

    /**
     * The confusion matrix as a picture: cells coloured by their share of the row, counts written in them.
     *
     * @param confusion  (C, C) non-negative counts, confusion[true][predicted]
     * @param classNames (C) class names, in the matrix's order
     * @param title      a line above the matrix (wrapped); null or blank for none
     * @return a TYPE_INT_RGB picture
     */
    public static BufferedImage of(int[][] confusion, List<String> classNames, String title) {
        check(confusion, classNames);
        int c = confusion.length;
        Layout l = layout(confusion, classNames, title);
        BufferedImage out = Pixels.white(l.width(), l.height());
        Graphics2D g = Pixels.graphics(out);
        FontMetrics fm = g.getFontMetrics(Pixels.FONT);

        Pixels.drawLines(g, Pixels.wrap(title, Pixels.metrics(Pixels.TITLE_FONT), l.width() - 2 * Pixels.PAD),
                Pixels.TITLE_FONT, 0, 0);
        g.setFont(Pixels.FONT);
        for (int i = 0; i < c; i++) {
            long total = 0;
            for (int v : confusion[i]) total += v;
            for (int j = 0; j < c; j++) {
                double share = total > 0 ? (double) confusion[i][j] / total : 0;
                int rgb = Colormap.INFERNO.rgb(share);
                int x = l.x0() + j * l.cell(), y = l.y0() + i * l.cell();
                g.setColor(new Color(rgb));
                g.fillRect(x, y, l.cell(), l.cell());
                g.setColor(luminance(rgb) > 0.5 ? Color.BLACK : Color.WHITE);
                String s = Integer.toString(confusion[i][j]);
                g.drawString(s, x + (l.cell() - fm.stringWidth(s)) / 2, y + (l.cell() - fm.getHeight()) / 2 + fm.getAscent());
            }
        }
        g.setColor(Color.GRAY);
        g.drawRect(l.x0() - 1, l.y0() - 1, c * l.cell() + 1, c * l.cell() + 1);

        g.setColor(Color.BLACK);
        for (int i = 0; i < c; i++) {                                          // row labels, right-aligned
            String s = classNames.get(i);
            int y = l.y0() + i * l.cell() + (l.cell() - fm.getHeight()) / 2 + fm.getAscent();
            g.drawString(s, l.x0() - Pixels.PAD - fm.stringWidth(s), y);
        }
        int below = l.y0() + c * l.cell();
        for (int j = 0; j < c; j++) {                                          // column labels, reading upwards
            String s = classNames.get(j);
            int x = l.x0() + j * l.cell() + (l.cell() - fm.getHeight()) / 2 + fm.getAscent();
            drawRotated(g, s, x, below + Pixels.PAD + fm.stringWidth(s));
        }
        Font bold = Pixels.TITLE_FONT;
        FontMetrics bm = g.getFontMetrics(bold);
        g.setFont(bold);
        String xTitle = "predicted", yTitle = "true";
        g.drawString(xTitle, l.x0() + (c * l.cell() - bm.stringWidth(xTitle)) / 2, below + l.labelH() + bm.getAscent());
        drawRotated(g, yTitle, Pixels.PAD + bm.getAscent(), l.y0() + (c * l.cell() + bm.stringWidth(yTitle)) / 2);

        g.setFont(Pixels.FONT);                                                // colour bar: share 0 (bottom) .. 1 (top)
        int barH = c * l.cell();
        for (int k = 0; k < barH; k++) {
            g.setColor(new Color(Colormap.INFERNO.rgb(1 - (double) k / Math.max(1, barH - 1))));
            g.fillRect(l.barX(), l.y0() + k, BAR_W, 1);
        }
        g.setColor(Color.BLACK);
        g.drawString("100%", l.barX() + BAR_W + Pixels.PAD, l.y0() + fm.getAscent());
        g.drawString("0%", l.barX() + BAR_W + Pixels.PAD, l.y0() + barH);
        g.dispose();
        return out;
    }

    static Layout layout(int[][] confusion, List<String> classNames, String title) {
        FontMetrics fm = Pixels.metrics(Pixels.FONT), bm = Pixels.metrics(Pixels.TITLE_FONT);
        int c = confusion.length;
        int cell = MIN_CELL, nameW = 0;
        for (int[] row : confusion)
            for (int v : row) cell = Math.max(cell, fm.stringWidth(Integer.toString(v)) + 2 * Pixels.PAD);
        for (String s : classNames) nameW = Math.max(nameW, fm.stringWidth(s));
        int yTitleW = Pixels.PAD + bm.getHeight();
        int labelW = nameW + 2 * Pixels.PAD;                                   // row labels' column
        int labelH = nameW + 2 * Pixels.PAD;                                   // column labels' band (rotated)
        int barBlock = 2 * Pixels.PAD + BAR_W + Pixels.PAD + fm.stringWidth("100%") + Pixels.PAD;
        int width = yTitleW + labelW + c * cell + barBlock;
        int titleH = Pixels.stripHeight(Pixels.wrap(title, bm, width - 2 * Pixels.PAD).size(), bm);
        int y0 = titleH + Pixels.PAD;
        int height = y0 + c * cell + labelH + bm.getHeight() + Pixels.PAD;
        int x0 = yTitleW + labelW;
        return new Layout(width, height, x0, y0, cell, titleH, labelW, labelH, x0 + c * cell + 2 * Pixels.PAD);
    }

    private static void check(int[][] confusion, List<String> classNames) {
        String op = "ConfusionPicture.of";
        if (confusion == null || confusion.length == 0) throw new IllegalArgumentException(op + ": empty confusion matrix");
        if (classNames == null || classNames.size() != confusion.length)
            throw new IllegalArgumentException(op + ": " + confusion.length + " matrix rows but "
                    + (classNames == null ? "no" : Integer.toString(classNames.size())) + " class names");
        for (int i = 0; i < confusion.length; i++) {
            if (confusion[i] == null || confusion[i].length != confusion.length)
                throw new IllegalArgumentException(op + ": row " + i + " has " + (confusion[i] == null ? 0 : confusion[i].length)
                        + " columns, expected " + confusion.length + " (a square matrix)");
            for (int j = 0; j < confusion.length; j++)
                if (confusion[i][j] < 0) throw new IllegalArgumentException(op + ": count [" + i + "][" + j + "] is " + confusion[i][j]);
            if (classNames.get(i) == null) throw new IllegalArgumentException(op + ": class name " + i + " is null");
        }
    }

    /** Draws s reading upwards with its baseline start at (x, y). */
    private static void drawRotated(Graphics2D g, String s, int x, int y) {
        AffineTransform saved = g.getTransform();
        g.translate(x, y);
        g.rotate(-Math.PI / 2);
        g.drawString(s, 0, 0);
        g.setTransform(saved);
    }

    /** Relative luminance in [0, 1] (Rec. 709 weights, no gamma). */
    private static double luminance(int rgb) {
        return (0.2126 * ((rgb >> 16) & 0xff) + 0.7152 * ((rgb >> 8) & 0xff) + 0.0722 * (rgb & 0xff)) / 255.0;
    }
}
