package mlip.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import mlip.tensor.Backend;
import mlip.tensor.DType;
import mlip.tensor.Device;
import mlip.tensor.Generator;
import mlip.tensor.Storage;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Round trips, a file built byte by byte, hostile headers, atomic writes. */
class SafetensorsTest {
    @TempDir
    Path dir;

    // ---------------------------------------------------------------- round trips

    @Test
    void roundTripKeepsDtypesShapesValuesOrderAndMetadata() throws IOException {
        Generator g = new Generator(7);
        LinkedHashMap<String, Tensor> w = new LinkedHashMap<>();
        w.put("z.last.in.name.order", Tensor.randn(g, 2, 3));                                     // F32
        w.put("a.f64", Tensor.randn(g, 5).to(DType.F64));
        w.put("ids", Tensor.of(new int[]{0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 5, 6, 7, 8}, 2, 2, 2));
        w.put("scalar", Tensor.scalar(3.5));                                                     // 0-d F32
        w.put("scalar64", Tensor.scalar(-1e300, DType.F64, Device.CPU));                         // 0-d F64
        w.put("empty", Tensor.zeros(0, 3));                                                      // zero-size F32
        w.put("empty.i32", Tensor.zeros(DType.I32, 4, 0));
        w.put("special", Tensor.of(new float[]{Float.NaN, Float.POSITIVE_INFINITY, -0.0f, Float.MIN_VALUE, -Float.MAX_VALUE}, 5));
        w.put("transposed", Tensor.randn(g, 3, 4).t());                                           // non-contiguous view
        Path f = dir.resolve("model.safetensors");
        Safetensors.write(f, w, Map.of("format", "pt", "note", "ünïcode ok"));

        Safetensors.Contents c = Safetensors.readWithMetadata(f);
        assertEquals(List.copyOf(w.keySet()), List.copyOf(c.tensors().keySet()), "header order is the map's order");
        assertEquals(Map.of("format", "pt", "note", "ünïcode ok"), c.metadata());
        for (Map.Entry<String, Tensor> e : w.entrySet()) assertBitEqual(e.getKey(), e.getValue(), c.tensors().get(e.getKey()));
    }

    @Test
    void headerIsSpacePaddedAndDataAlignedToElementSize() throws IOException {
        LinkedHashMap<String, Tensor> w = new LinkedHashMap<>();
        w.put("f32", Tensor.ones(3));               // 12 bytes: an F64 after it would be misaligned
        w.put("f64", Tensor.ones(DType.F64, 3));
        w.put("i32", Tensor.ones(DType.I32, 1));
        Path f = dir.resolve("a.safetensors");
        Safetensors.write(f, w);
        byte[] b = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8, "header length is a multiple of 8");
        String header = new String(b, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals('{', header.charAt(0));
        assertTrue(header.stripTrailing().endsWith("}"), header);
        assertTrue(header.substring(header.stripTrailing().length()).chars().allMatch(ch -> ch == ' '), "padding is spaces");
        JsonNode h = new ObjectMapper().readTree(header);
        assertEquals(List.of("f32", "f64", "i32"), fieldNames(h));
        for (String k : List.of("f32", "f64", "i32")) {
            long begin = h.get(k).get("data_offsets").get(0).asLong();
            int size = w.get(k).dtype().bytes();
            assertEquals(0, (8 + n + begin) % size, k + " starts aligned in the file");
        }
        assertEquals(0, h.get("f64").get("data_offsets").get(0).asLong(), "the largest elements come first");
        assertEquals(8 + n + 12 + 24 + 4, b.length);
    }

    @Test
    void emptyMapRoundTrips() throws IOException {
        Path f = dir.resolve("empty.safetensors");
        Safetensors.write(f, Map.of());
        assertTrue(Safetensors.read(f).isEmpty());
    }

    // ---------------------------------------------------------------- a file made by hand

    @Test
    void handWrittenFileWithHalfPrecisionAndI64ReadsCorrectly() throws IOException {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        // bf16: 1.0, -2.5, 3.140625, -0.0 (upper 16 bits of the f32 pattern)
        int[] bf16 = {0x3F80, 0xC020, 0x4049, 0x8000};
        for (int h : bf16) put16(data, h);                                // [0, 8)
        // f16: 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), +inf, 0.333251953125
        int[] f16 = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x3555};
        for (int h : f16) put16(data, h);                                 // [8, 20)
        long[] i64 = {1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE};
        for (long v : i64) put64(data, v);                                // [20, 52)
        put32(data, Float.floatToRawIntBits(0.25f));                      // [52, 56) F32 0-d
        put64(data, Double.doubleToRawLongBits(Math.PI));                 // [56, 64) F64 (1)
        put32(data, -7);                                                  // [64, 68) I32 (1, 1)
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"h.bf16\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
                + "\"h.f16\":{\"dtype\":\"F16\",\"shape\":[6],\"data_offsets\":[8,20]},"
                + "\"position_ids\":{\"dtype\":\"I64\",\"shape\":[1,4],\"data_offsets\":[20,52]},"
                + "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[52,56]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[56,64]},"
                + "\"i\":{\"dtype\":\"I32\",\"shape\":[1,1],\"data_offsets\":[64,68]},"
                + "\"nothing\":{\"dtype\":\"BF16\",\"shape\":[0,5],\"data_offsets\":[68,68]}}";
        Path f = file("hand.safetensors", header, data.toByteArray());

        Safetensors.Contents c = Safetensors.readWithMetadata(f);
        Map<String, Tensor> t = c.tensors();
        assertEquals(List.of("h.bf16", "h.f16", "position_ids", "s", "d", "i", "nothing"), List.copyOf(t.keySet()));
        assertEquals(Map.of("format", "pt"), c.metadata());
        assertTensor(t.get("h.bf16"), DType.F32, new int[]{2, 2});
        assertArrayEquals(new float[]{1.0f, -2.5f, 3.140625f, -0.0f}, t.get("h.bf16").toFloatArray());
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(t.get("h.bf16").toFloatArray()[3]));
        assertTensor(t.get("h.f16"), DType.F32, new int[]{6});
        assertArrayEquals(new float[]{1.0f, -2.0f, 65504f, (float) Math.scalb(1.0, -24), Float.POSITIVE_INFINITY, 0.333251953125f},
                t.get("h.f16").toFloatArray());
        assertTensor(t.get("position_ids"), DType.I32, new int[]{1, 4});
        assertArrayEquals(new int[]{1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE}, t.get("position_ids").toIntArray());
        assertTensor(t.get("s"), DType.F32, new int[0]);
        assertEquals(0.25, t.get("s").item());
        assertTensor(t.get("d"), DType.F64, new int[]{1});
        assertEquals(Math.PI, t.get("d").item());
        assertTensor(t.get("i"), DType.I32, new int[]{1, 1});
        assertEquals(-7, t.get("i").item());
        assertTensor(t.get("nothing"), DType.F32, new int[]{0, 5});
    }

    @Test
    void i64OutsideIntRangeIsAnErrorNamingTheTensorAndValue() throws IOException {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        put64(data, 3);
        put64(data, 1L << 40);
        Path f = file("big.safetensors", "{\"token_ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", data.toByteArray());
        String m = readError(f);
        assertTrue(m.contains("'token_ids'") && m.contains(Long.toString(1L << 40)) && m.contains("index 1"), m);
    }

    // ---------------------------------------------------------------- hostile and broken headers

    @Test
    void hugeHeaderLengthIsRejectedWithoutAllocating() throws IOException {
        for (long n : new long[]{-1L /* u64 max */, 1L << 40, Safetensors.MAX_HEADER_BYTES + 1}) {
            ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(n).putLong(0);
            Path f = dir.resolve("huge.safetensors");
            Files.write(f, b.array());
            String m = readError(f);
            assertTrue(m.contains("exceeds the cap") && m.contains(f.toString()), m);
        }
    }

    @Test
    void headerLengthBeyondTheFileIsRejected() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + 10).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).put("{}        ".getBytes(StandardCharsets.US_ASCII));
        Path f = dir.resolve("short.safetensors");
        Files.write(f, b.array());
        String m = readError(f);
        assertTrue(m.contains("header length 1000") && m.contains("larger than"), m);
        Files.write(f, new byte[5]);
        assertTrue(readError(f).contains("shorter than the 8-byte header length"));
    }

    @Test
    void offsetsBeyondTheFileAreRejected() throws IOException {
        Path f = file("beyond.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[8]);
        String m = readError(f);
        assertTrue(m.contains("'w'") && m.contains("beyond the end of the file"), m);
    }

    @Test
    void overlappingTensorsAreRejected() throws IOException {
        Path f = file("overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]);
        String m = readError(f);
        assertTrue(m.contains("'b'") && m.contains("overlap") && m.contains("'a'"), m);
    }

    @Test
    void gapsAndTrailingBytesAreRejected() throws IOException {
        String m = readError(file("gap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]));
        assertTrue(m.contains("'a'") && m.contains("gap of 4 bytes"), m);
        m = readError(file("trail.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[9]));
        assertTrue(m.contains("5 bytes after the last tensor"), m);
    }

    @Test
    void offsetsThatDoNotMatchDtypeTimesShapeAreRejected() throws IOException {
        String m = readError(file("size.safetensors", "{\"w\":{\"dtype\":\"F64\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", new byte[16]));
        assertTrue(m.contains("'w'") && m.contains("span 16 bytes") && m.contains("needs 4 x 8 = 32"), m);
        m = readError(file("back.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", new byte[8]));
        assertTrue(m.contains("'w'") && m.contains("end before they begin"), m);
    }

    @Test
    void badEntriesAreRejectedNamingTheTensor() throws IOException {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("{\"w\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", "unknown dtype 'Q7'");
        cases.put("{\"w\":{\"dtype\":\"BOOL\",\"shape\":[4],\"data_offsets\":[0,4]}}", "unsupported dtype 'BOOL'");
        cases.put("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "invalid dim -1");
        cases.put("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", "invalid dim 1.5");
        cases.put("{\"w\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,4]}}", "more than 2^31-1 elements");
        cases.put("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", "needs dtype, shape and data_offsets");
        cases.put("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "must be [begin, end]");
        cases.put("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", "two non-negative integers");
        cases.put("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", "unknown field 'extra'");
        cases.put("{\"w\":[1,2]}", "entry must be an object");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            String m = readError(file("bad.safetensors", c.getKey(), new byte[4]));
            assertTrue(m.contains("'w'") && m.contains(c.getValue()) && m.contains("bad.safetensors"), c.getKey() + " -> " + m);
        }
    }

    @Test
    void badJsonAndBadHeadersAreRejected() throws IOException {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("{\"w\":", "not valid JSON");
        cases.put("[1,2]", "does not start with '{'");
        cases.put("", "empty header");
        cases.put("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", "Duplicate field 'a'");
        cases.put("{} {}", "not valid JSON");
        cases.put("{\"__metadata__\":{\"k\":1}}", "value of 'k' must be a string");
        cases.put("{\"__metadata__\":[]}", "must be an object of strings");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            String m = readError(file("bad.safetensors", c.getKey(), new byte[0]));
            assertTrue(m.contains(c.getValue()) && m.contains("bad.safetensors"), c.getKey() + " -> " + m);
        }
        byte[] notUtf8 = {'{', (byte) 0xff, '}'};
        ByteBuffer b = ByteBuffer.allocate(8 + 3).order(ByteOrder.LITTLE_ENDIAN).putLong(3).put(notUtf8);
        Path f = dir.resolve("utf.safetensors");
        Files.write(f, b.array());
        assertTrue(readError(f).contains("not valid UTF-8"));
    }

    @Test
    void aMissingFileSaysSo() {
        Path f = dir.resolve("nope.safetensors");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Safetensors.read(f));
        assertTrue(e.getMessage().contains("nope.safetensors"), e.getMessage());
    }

    // ---------------------------------------------------------------- atomic writes

    @Test
    void writeReplacesAtomicallyAndLeavesNoTempFile() throws IOException {
        Path f = dir.resolve("ckpt.safetensors");
        Safetensors.write(f, Map.of("w", Tensor.ones(2)));
        Safetensors.write(f, Map.of("w", Tensor.zeros(3)));           // overwrite
        assertArrayEquals(new float[3], Safetensors.read(f).get("w").toFloatArray());
        assertEquals(List.of(f), listDir(), "only the target is left in the directory");
    }

    @Test
    void aFailedWriteKeepsTheOldFileAndRemovesTheTempFile() throws IOException {
        Path f = dir.resolve("ckpt.safetensors");
        Safetensors.write(f, Map.of("w", Tensor.ones(2)));
        byte[] before = Files.readAllBytes(f);
        LinkedHashMap<String, Tensor> w = new LinkedHashMap<>();
        w.put("good", Tensor.ones(4));
        w.put("broken", failingTensor());                // its data cannot be read: fails after the header is written
        RuntimeException e = assertThrows(RuntimeException.class, () -> Safetensors.write(f, w));
        assertTrue(e.getMessage().contains("device lost"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(f), "the old checkpoint is intact");
        assertEquals(List.of(f), listDir(), "the temp file was removed");
    }

    @Test
    void invalidNamesAreRejectedBeforeTouchingTheDisk() throws IOException {
        Path f = dir.resolve("x.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Safetensors.write(f, Map.of("__metadata__", Tensor.ones(1))));
        assertTrue(e.getMessage().contains("reserved"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(f, Map.of("", Tensor.ones(1))));
        assertEquals(List.of(), listDir());
        assertThrows(IOException.class, () -> Safetensors.write(dir.resolve("no/such/dir/x.safetensors"), Map.of("w", Tensor.ones(1))));
    }

    // ---------------------------------------------------------------- helpers

    /** A file with an unpadded header {@code json} followed by {@code data}. */
    private Path file(String name, String json, byte[] data) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path f = dir.resolve(name);
        Files.write(f, b.array());
        return f;
    }

    private static String readError(Path f) {
        IOException e = assertThrows(IOException.class, () -> Safetensors.read(f));
        return e.getMessage();
    }

    private List<Path> listDir() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    private static void put16(ByteArrayOutputStream o, int v) {
        o.write(v & 0xff);
        o.write((v >>> 8) & 0xff);
    }

    private static void put32(ByteArrayOutputStream o, int v) {
        put16(o, v);
        put16(o, v >>> 16);
    }

    private static void put64(ByteArrayOutputStream o, long v) {
        put32(o, (int) v);
        put32(o, (int) (v >>> 32));
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) out.add(it.next());
        return out;
    }

    private static void assertTensor(Tensor t, DType dtype, int[] shape) {
        assertEquals(dtype, t.dtype());
        assertArrayEquals(shape, t.shape());
    }

    static void assertBitEqual(String what, Tensor expected, Tensor actual) {
        assertEquals(expected.dtype(), actual.dtype(), what);
        assertArrayEquals(expected.shape(), actual.shape(), what);
        switch (expected.dtype()) {
            case F32 -> {
                float[] a = expected.toFloatArray(), b = actual.toFloatArray();
                for (int i = 0; i < a.length; i++) assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), what + "[" + i + "]");
            }
            case F64 -> {
                double[] a = expected.toDoubleArray(), b = actual.toDoubleArray();
                for (int i = 0; i < a.length; i++) assertEquals(Double.doubleToRawLongBits(a[i]), Double.doubleToRawLongBits(b[i]), what + "[" + i + "]");
            }
            case I32 -> assertArrayEquals(expected.toIntArray(), actual.toIntArray(), what);
        }
    }

    /** An F32 tensor whose backend fails when asked for the data (a device that went away mid-write). */
    private static Tensor failingTensor() {
        Backend[] backend = new Backend[1];
        backend[0] = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, (proxy, m, args) -> switch (m.getName()) {
            case "device" -> new Device("broken", 0);
            case "toString" -> "BrokenBackend";
            case "hashCode" -> 0;
            case "equals" -> proxy == args[0];
            default -> throw new IllegalStateException("device lost");
        });
        Storage storage = (Storage) Proxy.newProxyInstance(Storage.class.getClassLoader(), new Class<?>[]{Storage.class}, (proxy, m, args) -> switch (m.getName()) {
            case "dtype" -> DType.F32;
            case "size" -> 4;
            case "backend" -> backend[0];
            case "toString" -> "BrokenStorage";
            case "hashCode" -> 0;
            case "equals" -> proxy == args[0];
            default -> throw new UnsupportedOperationException(m.getName());
        });
        return Tensor.contiguousOn(storage, 4);
    }
}
