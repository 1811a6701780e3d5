package mlip.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The standard evaluation preprocessing of every real-data loader: resize so that the shorter side is
 * {@code S} (the longer side keeps the aspect ratio, rounded to whole pixels), then centre-crop {@code S x S};
 * grayscale floats in [0,1], row-major. The paper's config uses {@code S = 224} ({@link #SIZE}). This is
 * the geometry of torchvision's {@code Resize(S)} + {@code CenterCrop(S)} (the crop offset here is floored).
 *
 * <p>Resampling is separable, per axis: <b>area averaging</b> when the axis shrinks (each output pixel is the
 * coverage-weighted mean of the input pixels under it, so no aliasing from 1024-px DICOMs down to 224) and
 * <b>bilinear</b> with aligned pixel centres when it grows. Only the cropped output pixels are computed. Masks
 * ({@link #mask}) go through the same geometry and are then thresholded at 0.5, so a mask pixel is 1 when at
 * least half of it was covered.
 *
 * <p>{@link Images#squareResize} (crop the central square first, then resize) is kept for the MIMIC/SynthCXR
 * path; the two agree up to the rounding of the crop offset.
 *
 * <pre>{@code
 * float[] x = Preprocess.read(Path.of("view1_frontal.jpg"), Preprocess.SIZE);   // (224*224) in [0,1]
 * float[] m = Preprocess.mask(mask01, width, height, 224);                      // 0/1
 * }</pre>
 */
public final class Preprocess {

    /** The input size of the paper's config. */
    public static final int SIZE = 224;

    private Preprocess() {
    }

    /** Reads a PNG/JPEG and preprocesses it. @throws IOException when missing or corrupt (see {@link Images#read}) */
    public static float[] read(Path file, int size) throws IOException {
        return image(Images.read(file), size);
    }

    /** Preprocesses a decoded gray image. */
    public static float[] image(Images.Gray g, int size) {
        return image(g.pixels(), g.width(), g.height(), size);
    }

    /**
     * Resizes (w x h) so the shorter side is {@code size}, then centre-crops (size x size).
     *
     * @param src (h*w) row-major
     * @return (size*size) row-major
     */
    public static float[] image(float[] src, int w, int h, int size) {
        if (w <= 0 || h <= 0 || size <= 0 || src.length != w * h) {
            throw new IllegalArgumentException("image " + w + "x" + h + " with " + src.length + " pixels to size " + size);
        }
        int[] full = resizedShape(w, h, size);
        Images.Axis ax = Images.Axis.of(w, full[0], (full[0] - size) / 2, size);
        Images.Axis ay = Images.Axis.of(h, full[1], (full[1] - size) / 2, size);
        float[] tmp = new float[h * size]; // horizontal pass: (h rows) x (size cols)
        for (int y = 0; y < h; y++) {
            ax.apply(src, y * w, 1, tmp, y * size, 1);
        }
        float[] out = new float[size * size]; // vertical pass
        for (int x = 0; x < size; x++) {
            ay.apply(tmp, x, size, out, x, size);
        }
        return out;
    }

    /** A 0/1 mask through the same resize and crop as {@link #image}, then thresholded at 0.5. */
    public static float[] mask(float[] mask01, int w, int h, int size) {
        float[] m = image(mask01, w, h, size);
        for (int i = 0; i < m.length; i++) {
            m[i] = m[i] >= 0.5f ? 1f : 0f;
        }
        return m;
    }

    /** {width, height} after resizing the shorter side of (w x h) to {@code size}, before the crop. */
    public static int[] resizedShape(int w, int h, int size) {
        if (w <= h) {
            return new int[] {size, Math.max(size, (int) Math.round((double) h * size / w))};
        }
        return new int[] {Math.max(size, (int) Math.round((double) w * size / h)), size};
    }
}
