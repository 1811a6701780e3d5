package mlip.data;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferUShort;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Grayscale image I/O with javax.imageio and the one resize the loaders use.
 *
 * <p>Reading goes through an in-memory stream (never ImageIO's file cache, and no global ImageIO
 * setting is changed) so it is safe and fast from many threads. A decoder warning (for example a
 * truncated JPEG, which ImageIO would otherwise fill with gray) counts as corruption: the file is
 * rejected with an {@link IOException}, which the data set loaders turn into a skipped, counted sample.
 *
 * <pre>{@code
 * float[] img = Images.readSquare(Path.of("x.jpg"), 96);   // (96*96) row-major, values in [0,1]
 * }</pre>
 */
public final class Images {

    private Images() {
    }

    /** A decoded grayscale image: {@code pixels} is (height*width) row-major in [0,1]. */
    public record Gray(int width, int height, float[] pixels) {
    }

    /**
     * Decodes a PNG/JPEG (8/16-bit gray or color; color is converted to luminance).
     *
     * @throws IOException when the file is missing, not an image, truncated or otherwise corrupt
     */
    public static Gray read(Path file) throws IOException {
        return decode(Files.readAllBytes(file), file + ": not a readable image (unknown format)", file + ": corrupt image");
    }

    /**
     * Decodes an encoded image (JPEG, PNG, ...) to gray: an unknown format throws {@code unknown}, a reader
     * warning or failure (truncated or damaged data) throws {@code corrupt + ": " + the reason}. Also the JPEG
     * inside an encapsulated DICOM ({@link Dicom}).
     */
    static Gray decode(byte[] bytes, String unknown, String corrupt) throws IOException {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IOException(unknown);
            }
            ImageReader reader = readers.next();
            StringBuilder warnings = new StringBuilder();
            BufferedImage img;
            try {
                reader.setInput(in, true, true);
                reader.addIIOReadWarningListener((src, msg) -> warnings.append(msg).append("; "));
                img = reader.read(0);
            } catch (IOException | RuntimeException e) {
                throw new IOException(corrupt + ": " + e, e);
            } finally {
                reader.dispose();
            }
            if (!warnings.isEmpty()) {
                throw new IOException(corrupt + ": " + warnings);
            }
            return toGray(img);
        }
    }

    /** Converts any BufferedImage to [0,1] gray, using the raw raster for 8/16-bit gray. */
    static Gray toGray(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        float[] out = new float[w * h];
        Raster r = img.getRaster();
        if (img.getType() == BufferedImage.TYPE_BYTE_GRAY && r.getDataBuffer() instanceof DataBufferByte db
                && r.getParent() == null && r.getSampleModelTranslateX() == 0 && r.getSampleModelTranslateY() == 0) {
            byte[] b = db.getData();
            for (int i = 0; i < w * h; i++) {
                out[i] = (b[i] & 0xff) * (1f / 255f);
            }
        } else if (img.getType() == BufferedImage.TYPE_USHORT_GRAY && r.getDataBuffer() instanceof DataBufferUShort db
                && r.getParent() == null && r.getSampleModelTranslateX() == 0 && r.getSampleModelTranslateY() == 0) {
            short[] s = db.getData();
            for (int i = 0; i < w * h; i++) {
                out[i] = (s[i] & 0xffff) * (1f / 65535f);
            }
        } else if (r.getNumBands() == 1) {
            int bits = img.getColorModel().getComponentSize(0);
            float scale = 1f / ((1 << bits) - 1);
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    out[y * w + x] = row[x] * scale;
                }
            }
        } else {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                img.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    int p = row[x];
                    out[y * w + x] = (0.299f * ((p >> 16) & 0xff) + 0.587f * ((p >> 8) & 0xff) + 0.114f * (p & 0xff)) / 255f;
                }
            }
        }
        return new Gray(w, h, out);
    }

    /** Reads an image, center-crops it to a square and resizes it to (size x size). */
    public static float[] readSquare(Path file, int size) throws IOException {
        Gray g = read(file);
        return squareResize(g.pixels(), g.width(), g.height(), size);
    }

    /**
     * Center-crops (w x h) to a square of side min(w, h) and resizes it to (size x size): area averaging
     * when shrinking (each output pixel is the coverage-weighted mean of the input pixels under it),
     * bilinear when enlarging. Separable, so O(w*h + size*size) per axis pass.
     */
    public static float[] squareResize(float[] src, int w, int h, int size) {
        int side = Math.min(w, h);
        int x0 = (w - side) / 2;
        int y0 = (h - side) / 2;
        if (side == size) {
            float[] out = new float[size * size];
            for (int y = 0; y < size; y++) {
                System.arraycopy(src, (y0 + y) * w + x0, out, y * size, size);
            }
            return out;
        }
        // horizontal pass: (side rows) x (size cols), then vertical: (size x size)
        float[] tmp = new float[side * size];
        Axis ax = Axis.of(side, size);
        for (int y = 0; y < side; y++) {
            ax.apply(src, (y0 + y) * w + x0, 1, tmp, y * size, 1);
        }
        float[] out = new float[size * size];
        for (int x = 0; x < size; x++) {
            ax.apply(tmp, x, size, out, x, size);
        }
        return out;
    }

    /**
     * Precomputed 1-D resampling weights from {@code in} pixels to {@code full} pixels, for the outputs
     * {@code offset .. offset+count-1} only (a crop): output i reads inputs first[i] .. first[i]+weights[i].length-1.
     * Area averaging when the axis shrinks, bilinear with aligned pixel centres (edges clamped) when it grows.
     * Shared by {@link #squareResize} and {@link Preprocess}.
     */
    record Axis(int[] first, float[][] weights) {

        static Axis of(int in, int out) {
            return of(in, out, 0, out);
        }

        static Axis of(int in, int full, int offset, int count) {
            int[] first = new int[count];
            float[][] weights = new float[count][];
            double scale = (double) in / full;
            for (int j = 0; j < count; j++) {
                int i = offset + j;
                if (in >= full) { // area: input interval [i*scale, (i+1)*scale)
                    double a = i * scale;
                    double b = (i + 1) * scale;
                    int lo = (int) Math.floor(a);
                    int hi = Math.min(in - 1, (int) Math.ceil(b) - 1);
                    float[] wt = new float[hi - lo + 1];
                    for (int k = lo; k <= hi; k++) {
                        wt[k - lo] = (float) ((Math.min(b, k + 1) - Math.max(a, k)) / scale);
                    }
                    first[j] = lo;
                    weights[j] = wt;
                } else { // bilinear with pixel centres aligned
                    double c = (i + 0.5) * scale - 0.5;
                    int lo = (int) Math.floor(c);
                    float f = (float) (c - lo);
                    if (lo < 0) {
                        lo = 0;
                        f = 0f;
                    }
                    if (lo >= in - 1) {
                        first[j] = in - 1;
                        weights[j] = new float[] {1f};
                    } else {
                        first[j] = lo;
                        weights[j] = new float[] {1f - f, f};
                    }
                }
            }
            return new Axis(first, weights);
        }

        void apply(float[] src, int srcOff, int srcStride, float[] dst, int dstOff, int dstStride) {
            for (int i = 0; i < first.length; i++) {
                float[] wt = weights[i];
                int p = srcOff + first[i] * srcStride;
                float acc = 0f;
                for (float v : wt) {
                    acc += v * src[p];
                    p += srcStride;
                }
                dst[dstOff + i * dstStride] = acc;
            }
        }
    }

    /** 8-bit gray image from [0,1] floats (clamped, rounded). */
    public static BufferedImage toImage(float[] pixels, int width, int height) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        byte[] b = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < width * height; i++) {
            float v = Math.min(1f, Math.max(0f, pixels[i]));
            b[i] = (byte) Math.round(v * 255f);
        }
        return img;
    }

    /** JPEG bytes of a gray image at the given quality (0..1). */
    public static byte[] encodeJpeg(float[] pixels, int width, int height, float quality) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 * 1024);
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            ImageWriteParam p = writer.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(quality);
            writer.write(null, new IIOImage(toImage(pixels, width, height), null, null), p);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    /** PNG bytes of a gray image (8 bit). */
    public static byte[] encodePng(float[] pixels, int width, int height) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(4 * 1024);
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            if (!ImageIO.write(toImage(pixels, width, height), "png", out)) {
                throw new IOException("no PNG writer in this JDK");
            }
        }
        return bytes.toByteArray();
    }
}
