package mlip.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes minimal DICOM Part-10 files by hand for the loader tests: a 128-byte preamble, "DICM", the group
 * 0002 file meta information, then the image pixel module and PixelData, all in explicit VR little endian
 * (1.2.840.10008.1.2.1) — or, with {@link #writeJpeg}, PixelData encapsulated as one JPEG baseline
 * fragment (1.2.840.10008.1.2.4.50), the way RSNA's and SIIM's files store it.
 *
 * <pre>{@code
 * TinyDicom.write(dir.resolve("a.dcm"), 4, 3, 16, pixels, "MONOCHROME2");   // pixels: (3*4) row-major
 * }</pre>
 */
final class TinyDicom {

    private TinyDicom() {
    }

    /**
     * An uncompressed gray image.
     *
     * @param bits        8 or 16 (BitsAllocated = BitsStored, HighBit = bits - 1, unsigned)
     * @param pixels      (height*width) row-major raw values
     * @param photometric "MONOCHROME2" or "MONOCHROME1"
     */
    static void write(Path file, int width, int height, int bits, int[] pixels, String photometric) throws IOException {
        ByteArrayOutputStream pix = new ByteArrayOutputStream();
        for (int v : pixels) {
            pix.write(v & 0xff);
            if (bits == 16) {
                pix.write((v >> 8) & 0xff);
            }
        }
        byte[] data = pix.toByteArray();
        if ((data.length & 1) != 0) {
            data = java.util.Arrays.copyOf(data, data.length + 1); // values have even length
        }
        Files.write(file, file("1.2.840.10008.1.2.1", width, height, bits, photometric, bits == 16 ? "OW" : "OB", data, false));
    }

    /** An 8-bit gray image ({@code pixels} in [0,1]) stored as one encapsulated JPEG baseline fragment. */
    static void writeJpeg(Path file, int width, int height, float[] pixels, String photometric) throws IOException {
        byte[] jpeg = Images.encodeJpeg(pixels, width, height, 0.95f);
        Files.write(file, file("1.2.840.10008.1.2.4.50", width, height, 8, photometric, "OB", jpeg, true));
    }

    private static byte[] file(String transferSyntax, int width, int height, int bits, String photometric, String pixelVr,
                               byte[] pixelData, boolean encapsulated) {
        ByteArrayOutputStream meta = new ByteArrayOutputStream();
        element(meta, 0x0002, 0x0001, "OB", new byte[] {0, 1});
        element(meta, 0x0002, 0x0002, "UI", uid("1.2.840.10008.5.1.4.1.1.7")); // secondary capture
        element(meta, 0x0002, 0x0003, "UI", uid("1.2.3.4.5.6.7"));
        element(meta, 0x0002, 0x0010, "UI", uid(transferSyntax));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[128]);
        out.writeBytes("DICM".getBytes(StandardCharsets.US_ASCII));
        element(out, 0x0002, 0x0000, "UL", le32(meta.size()));
        out.writeBytes(meta.toByteArray());
        element(out, 0x0010, 0x0020, "LO", text("TEST01"));
        element(out, 0x0028, 0x0002, "US", le16(1));
        element(out, 0x0028, 0x0004, "CS", text(photometric));
        element(out, 0x0028, 0x0010, "US", le16(height));
        element(out, 0x0028, 0x0011, "US", le16(width));
        element(out, 0x0028, 0x0100, "US", le16(bits));
        element(out, 0x0028, 0x0101, "US", le16(bits));
        element(out, 0x0028, 0x0102, "US", le16(bits - 1));
        element(out, 0x0028, 0x0103, "US", le16(0));
        if (!encapsulated) {
            element(out, 0x7FE0, 0x0010, pixelVr, pixelData);
        } else {
            // undefined length, an empty basic offset table item, one fragment, a sequence delimiter
            header(out, 0x7FE0, 0x0010, "OB", 0xFFFFFFFFL);
            item(out, 0xE000, new byte[0]);
            item(out, 0xE000, (pixelData.length & 1) == 0 ? pixelData : java.util.Arrays.copyOf(pixelData, pixelData.length + 1));
            item(out, 0xE0DD, new byte[0]);
        }
        return out.toByteArray();
    }

    private static void element(ByteArrayOutputStream out, int group, int elem, String vr, byte[] value) {
        header(out, group, elem, vr, value.length);
        out.writeBytes(value);
    }

    /** Explicit VR: OB/OW/UN/SQ/UT have 2 reserved bytes and a 32-bit length, the others a 16-bit length. */
    private static void header(ByteArrayOutputStream out, int group, int elem, String vr, long length) {
        out.writeBytes(le16(group));
        out.writeBytes(le16(elem));
        out.writeBytes(vr.getBytes(StandardCharsets.US_ASCII));
        if (vr.equals("OB") || vr.equals("OW") || vr.equals("UN") || vr.equals("SQ") || vr.equals("UT")) {
            out.writeBytes(le16(0));
            out.writeBytes(le32((int) length));
        } else {
            out.writeBytes(le16((int) length));
        }
    }

    private static void item(ByteArrayOutputStream out, int elem, byte[] value) {
        out.writeBytes(le16(0xFFFE));
        out.writeBytes(le16(elem));
        out.writeBytes(le32(value.length));
        out.writeBytes(value);
    }

    /** UI values are padded with a NUL to even length, text values with a space. */
    private static byte[] uid(String s) {
        return pad(s, (byte) 0);
    }

    private static byte[] text(String s) {
        return pad(s, (byte) ' ');
    }

    private static byte[] pad(String s, byte filler) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        if ((b.length & 1) == 0) {
            return b;
        }
        byte[] p = java.util.Arrays.copyOf(b, b.length + 1);
        p[b.length] = filler;
        return p;
    }

    private static byte[] le16(int v) {
        return new byte[] {(byte) v, (byte) (v >> 8)};
    }

    private static byte[] le32(int v) {
        return new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)};
    }
}
