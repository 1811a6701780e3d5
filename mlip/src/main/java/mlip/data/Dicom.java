package mlip.data;

import ij.io.FileInfo;
import ij.plugin.DICOM;
import ij.process.ImageProcessor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Reads a single-frame grayscale DICOM Part-10 file as [0,1] floats, for the RSNA and SIIM loaders.
 *
 * <p>Decisions that live here:
 * <ul>
 *   <li>Uncompressed transfer syntaxes go through ImageJ's reader ({@code ij.plugin.DICOM}, net.imagej:ij), which
 *       keeps the raw stored values. ImageJ 1.x keeps static state and is not documented as thread-safe, so its
 *       decode is serialized; the resize after it runs in parallel.</li>
 *   <li>ImageJ 1.54f refuses compressed DICOMs. RSNA's and SIIM's files store their pixels as one encapsulated
 *       JPEG baseline stream (transfer syntax 1.2.840.10008.1.2.4.50), so for 1.2.4.50/.51 the fragments are
 *       taken out of PixelData here and decoded with javax.imageio. Other compressed syntaxes (lossless JPEG,
 *       JPEG 2000, RLE) are reported as unsupported, i.e. a skipped, counted image.</li>
 *   <li>Scaling: 8-bit (and RGB, as luminance) values are divided by 255; 16-bit and 32-bit values are min-max
 *       normalised per image (BitsStored varies, 10 to 16, and ImageJ offsets signed data), a constant image
 *       becomes all zeros; window centre/width tags are not applied. MONOCHROME1 (white is zero; ImageJ only marks it with an inverted LUT) becomes
 *       {@code 1 - v}, so bright is always dense tissue.</li>
 *   <li>Corruption: a file without "DICM" at offset 128, one that ImageJ cannot decode, one whose pixel data is
 *       shorter than Rows x Columns (ImageJ would silently fill zeros), or a broken JPEG stream is an
 *       {@link IOException} naming the file.</li>
 * </ul>
 *
 * <pre>{@code
 * Images.Gray g = Dicom.read(Path.of("stage_2_train_images/0004cfab-14fd-4e49-80ba-63a80b6bddd6.dcm"));
 * }</pre>
 */
final class Dicom {

    private static final Object IMAGEJ = new Object();
    private static final int PIXEL_DATA = 0x7FE00010;
    private static final int PHOTOMETRIC = 0x00280004;
    private static final int TRANSFER_SYNTAX = 0x00020010;
    private static final int ITEM = 0xFFFEE000;
    private static final int ITEM_END = 0xFFFEE00D;
    private static final int SEQUENCE_END = 0xFFFEE0DD;
    private static final long UNDEFINED = 0xFFFFFFFFL;
    /** Explicit-VR value representations with 2 reserved bytes and a 32-bit length. */
    private static final Set<String> LONG_VRS = Set.of("OB", "OW", "OF", "OD", "OL", "OV", "SQ", "UT", "UN", "UC", "UR", "SV", "UV");

    private Dicom() {
    }

    /** Decodes the file. @throws IOException naming the file when it is missing, not DICOM, corrupt or unsupported */
    static Images.Gray read(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(16 * 1024);
        }
        if (head.length < 132 || !new String(head, 128, 4, StandardCharsets.US_ASCII).equals("DICM")) {
            throw new IOException(file + ": not a DICOM Part-10 file (no 'DICM' at offset 128)");
        }
        ByteBuffer meta = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        String syntax;
        try {
            syntax = transferSyntax(meta);
        } catch (RuntimeException e) {
            throw new IOException(file + ": malformed DICOM file meta information (" + e + ")", e);
        }
        if (syntax.equals("1.2.840.10008.1.2.4.50") || syntax.equals("1.2.840.10008.1.2.4.51")) {
            return readJpeg(file);
        }
        if (syntax.startsWith("1.2.840.10008.1.2.4.") || syntax.equals("1.2.840.10008.1.2.5") || syntax.equals("1.2.840.10008.1.2.1.99")) {
            throw new IOException(file + ": unsupported compressed transfer syntax " + syntax);
        }
        return readWithImageJ(file);
    }

    private static Images.Gray readWithImageJ(Path file) throws IOException {
        DICOM d = new DICOM();
        synchronized (IMAGEJ) {
            d.open(file.toString());
        }
        if (d.getWidth() == 0 || d.getProcessor() == null) {
            throw new IOException(file + ": ImageJ could not decode this DICOM");
        }
        FileInfo fi = d.getOriginalFileInfo();
        long need = fi.getOffset() + (long) fi.width * fi.height * fi.getBytesPerPixel();
        if (Files.size(file) < need) {
            throw new IOException(file + ": truncated pixel data (" + Files.size(file) + " bytes, " + need + " needed)");
        }
        ImageProcessor ip = d.getProcessor();
        float[] v = (float[]) ip.convertToFloatProcessor().getPixels(); // raw stored values (no LUT, no calibration)
        int bits = ip.getBitDepth();
        if (bits == 8 || bits == 24) {
            for (int i = 0; i < v.length; i++) {
                v[i] *= 1f / 255f;
            }
        } else {
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (float x : v) {
                lo = Math.min(lo, x);
                hi = Math.max(hi, x);
            }
            float s = hi > lo ? 1f / (hi - lo) : 0f;
            for (int i = 0; i < v.length; i++) {
                v[i] = (v[i] - lo) * s;
            }
        }
        if (fi.whiteIsZero) {
            invert(v);
        }
        return new Images.Gray(d.getWidth(), d.getHeight(), v);
    }

    /** Encapsulated JPEG: walk the data set to PixelData, join its fragments, decode with javax.imageio. */
    private static Images.Gray readJpeg(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        String[] photometric = {"MONOCHROME2"};
        byte[] jpeg;
        try {
            transferSyntax(b); // leaves b's position after the meta group
            int pos = walk(b, b.position(), photometric, 0);
            ByteArrayOutputStream frags = new ByteArrayOutputStream();
            boolean first = true; // the first item is the basic offset table
            while (true) {
                int tag = tag(b, pos);
                long len = b.getInt(pos + 4) & 0xFFFFFFFFL;
                pos += 8;
                if (tag == SEQUENCE_END) {
                    break;
                }
                if (tag != ITEM || len == UNDEFINED) {
                    throw new IOException("bad item in encapsulated PixelData");
                }
                checkLength(b, pos, len);
                if (!first) {
                    frags.write(b.array(), pos, (int) len);
                }
                first = false;
                pos = Math.addExact(pos, (int) len);
            }
            jpeg = frags.toByteArray();
        } catch (RuntimeException e) {
            throw new IOException(file + ": malformed DICOM data set (" + e + ")", e);
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        Images.Gray g = Images.decode(jpeg, file + ": PixelData is not a JPEG stream", file + ": corrupt JPEG in PixelData");
        if (photometric[0].equals("MONOCHROME1")) {
            invert(g.pixels());
        }
        return g;
    }

    /** Reads the meta group (explicit VR LE from offset 132); returns the transfer syntax, position after the group. */
    private static String transferSyntax(ByteBuffer b) {
        int pos = 132;
        String syntax = null;
        while (pos + 8 <= b.limit() && (b.getShort(pos) & 0xFFFF) == 0x0002) {
            int tag = tag(b, pos);
            String vr = vr(b, pos);
            int hdr = LONG_VRS.contains(vr) ? 12 : 8;
            int len = hdr == 12 ? b.getInt(pos + 8) : b.getShort(pos + 6) & 0xFFFF;
            if (len < 0 || len > b.limit() - pos - hdr) {
                throw new IllegalStateException("meta element length " + len + " past the end of the header");
            }
            if (tag == TRANSFER_SYNTAX) {
                syntax = ascii(b, pos + hdr, len);
            }
            pos = Math.addExact(pos, hdr + len);
        }
        if (syntax == null) {
            throw new IllegalStateException("no TransferSyntaxUID (0002,0010) in the first " + b.limit() + " bytes");
        }
        b.position(pos);
        return syntax;
    }

    /**
     * Walks explicit-VR-LE elements from {@code pos}: at depth 0 until PixelData (returns the position of its
     * value), inside an undefined-length item until the item delimiter (returns the position after it).
     * Records PhotometricInterpretation on the way.
     */
    private static int walk(ByteBuffer b, int pos, String[] photometric, int depth) throws IOException {
        while (true) {
            int tag = tag(b, pos);
            if (tag == ITEM_END) {
                return pos + 8;
            }
            String vr = vr(b, pos);
            int hdr = LONG_VRS.contains(vr) ? 12 : 8;
            long len = hdr == 12 ? b.getInt(pos + 8) & 0xFFFFFFFFL : b.getShort(pos + 6) & 0xFFFF;
            pos += hdr;
            checkLength(b, pos, len);
            if (depth == 0 && tag == PIXEL_DATA) {
                return pos;
            }
            if (depth == 0 && tag == PHOTOMETRIC) {
                photometric[0] = ascii(b, pos, (int) len);
            }
            if (len != UNDEFINED) {
                pos = Math.addExact(pos, (int) len);
            } else if (vr.equals("SQ")) {
                while (true) { // items until the sequence delimiter
                    int itemTag = tag(b, pos);
                    long itemLen = b.getInt(pos + 4) & 0xFFFFFFFFL;
                    pos += 8;
                    if (itemTag == SEQUENCE_END) {
                        break;
                    }
                    checkLength(b, pos, itemLen);
                    pos = itemLen == UNDEFINED ? walk(b, pos, photometric, depth + 1) : Math.addExact(pos, (int) itemLen);
                }
            } else {
                throw new IOException("undefined length on a " + vr + " element");
            }
        }
    }

    /** A defined length must fit in the file (undefined lengths are resolved by their delimiters). */
    private static void checkLength(ByteBuffer b, int pos, long len) throws IOException {
        if (len != UNDEFINED && len > b.limit() - pos) {
            throw new IOException("element of " + len + " bytes at offset " + pos + " runs past the end of the file (" + b.limit() + " bytes)");
        }
    }

    private static void invert(float[] v) {
        for (int i = 0; i < v.length; i++) {
            v[i] = 1f - v[i];
        }
    }

    private static int tag(ByteBuffer b, int pos) {
        return (b.getShort(pos) & 0xFFFF) << 16 | (b.getShort(pos + 2) & 0xFFFF);
    }

    private static String vr(ByteBuffer b, int pos) {
        return new String(new byte[] {b.get(pos + 4), b.get(pos + 5)}, StandardCharsets.US_ASCII);
    }

    /** A text value without its NUL/space padding. */
    private static String ascii(ByteBuffer b, int pos, int len) {
        return new String(b.array(), pos, len, StandardCharsets.US_ASCII).replace("\0", "").trim();
    }
}
