package mlip.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import mlip.tensor.DType;
import mlip.tensor.Shape;
import mlip.tensor.Tensor;

/**
 * Reads and writes <a href="https://github.com/huggingface/safetensors">safetensors</a> files, the
 * checkpoint format of Hugging Face and timm, so weights move between this project and PyTorch by name.
 *
 * <pre>{@code
 * Map<String, Tensor> w = new LinkedHashMap<>();
 * w.put("fc.weight", Tensor.randn(new Generator(0), 4, 3));
 * w.put("fc.bias", Tensor.zeros(4));
 * Safetensors.write(Path.of("model.safetensors"), w, Map.of("format", "pt"));
 * LinkedHashMap<String, Tensor> back = Safetensors.read(Path.of("model.safetensors"));   // same order
 * }</pre>
 *
 * <h2>Format</h2>
 * An 8-byte little-endian unsigned header length {@code N}; {@code N} bytes of UTF-8 JSON
 * {@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"}}}
 * (offsets relative to the first byte after the header); then the raw little-endian, row-major data.
 *
 * <h2>Decisions</h2>
 * <ul>
 *   <li><b>Read</b>: {@code F32}, {@code F64}, {@code I32} as they are; {@code I64} becomes {@code I32} (an
 *       error names the tensor and the first value outside the int range); {@code BF16} and {@code F16}
 *       become {@code F32} (exactly: every bf16/f16 value is an f32 value). Other safetensors dtypes
 *       ({@code BOOL}, {@code U8}, {@code F8_*}, ...) are rejected with an error that lists what is supported.</li>
 *   <li><b>Validation</b> follows the reference implementation's rules, with errors naming the file and the
 *       tensor: the header length is capped at {@link #MAX_HEADER_BYTES} (a hostile length cannot make us
 *       allocate) and must fit in the file; the header must be UTF-8 JSON starting with <code>'{'</code>, with no
 *       duplicate names; each entry has exactly the three fields; {@code end - begin} must equal
 *       {@code numel * bytes(dtype)}; sorted by offset, the tensors must tile the data area exactly
 *       (no overlap, no gap, nothing past the last tensor, nothing beyond the end of the file).</li>
 *   <li><b>Order</b>: {@link #read} returns the tensors in the header's order; {@link #write} writes the
 *       header in the map's order, so a write/read round trip keeps the order. The <i>data</i> is laid out
 *       by decreasing element size (stable), as Hugging Face does, so every tensor's data is aligned to its
 *       element size (the header is space-padded to a multiple of 8 bytes).</li>
 *   <li><b>Write</b>: {@code F32}, {@code F64} and {@code I32} tensors are written as they are (no
 *       conversion; call {@code t.to(DType.F32)} first for an F32-only file).</li>
 *   <li><b>Atomic writes</b>: data goes to a temporary file in the target's directory, which is fsynced
 *       and then renamed over the target ({@code ATOMIC_MOVE}); the directory is fsynced after the rename.
 *       A reader sees the old file or the new one, never half of one; a failed write leaves no temp file.</li>
 * </ul>
 */
public final class Safetensors {
    private Safetensors() {
    }

    /** Largest header accepted: 100 MiB (the reference implementation uses 100 MB). */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    /** The key under which the header holds string metadata. */
    public static final String METADATA_KEY = "__metadata__";

    private static final int CHUNK_BYTES = 1 << 20; // staging buffer for reads and writes (multiple of 8)

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** The tensors of a file in header order, and its {@code __metadata__} (empty when absent). */
    public record Contents(LinkedHashMap<String, Tensor> tensors, Map<String, String> metadata) {
    }

    /** File dtypes and what they become in memory. */
    private enum FileDType {
        F32(4, DType.F32), F64(8, DType.F64), I32(4, DType.I32), I64(8, DType.I32), BF16(2, DType.F32), F16(2, DType.F32);

        final int bytes;
        final DType target;

        FileDType(int bytes, DType target) {
            this.bytes = bytes;
            this.target = target;
        }

        static FileDType of(DType d) {
            return switch (d) {
                case F32 -> F32;
                case F64 -> F64;
                case I32 -> I32;
            };
        }
    }

    private static final List<String> OTHER_SAFETENSORS_DTYPES =
            List.of("BOOL", "U8", "I8", "U16", "I16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64");

    /** One header entry. */
    private record Entry(String name, FileDType dtype, int[] shape, int numel, long begin, long end) {
    }

    // ---------------------------------------------------------------- read

    /** The tensors of {@code file} in header order (CPU tensors; see the class notes for dtype conversions). */
    public static LinkedHashMap<String, Tensor> read(Path file) throws IOException {
        return readWithMetadata(file).tensors();
    }

    /** The tensors of {@code file} in header order, and its {@code __metadata__}. */
    public static Contents readWithMetadata(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw bad(file, "file is " + size + " bytes long, shorter than the 8-byte header length");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long n = lenBuf.getLong(0); // u64; negative here means >= 2^63
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw bad(file, "header length " + Long.toUnsignedString(n) + " exceeds the cap of " + MAX_HEADER_BYTES + " bytes");
            }
            if (n > size - 8) throw bad(file, "header length " + n + " is larger than the " + (size - 8) + " bytes after the length field");
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8, file);
            long dataStart = 8 + n, dataLen = size - dataStart;

            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = parseHeader(file, hb, metadata);
            checkLayout(file, entries, dataLen);

            LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
            for (Entry e : entries) out.put(e.name, readTensor(ch, file, e, dataStart));
            return new Contents(out, metadata);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "safetensors file not found");
        }
    }

    private static List<Entry> parseHeader(Path file, ByteBuffer hb, Map<String, String> metadata) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(hb.flip()).toString();
        } catch (CharacterCodingException e) {
            throw bad(file, "header is not valid UTF-8");
        }
        if (text.isEmpty() || text.charAt(0) != '{') {
            throw bad(file, "header does not start with '{' (got " + (text.isEmpty() ? "an empty header" : quote(text.substring(0, Math.min(20, text.length())))) + ")");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IOException("safetensors file " + file + ": header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (!(root instanceof ObjectNode obj)) throw bad(file, "header is not a JSON object");

        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals(METADATA_KEY)) {
                if (!v.isObject()) throw bad(file, METADATA_KEY + " must be an object of strings, got " + v.getNodeType());
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) {
                        throw bad(file, METADATA_KEY + " value of " + quote(kv.getKey()) + " must be a string, got " + kv.getValue().getNodeType());
                    }
                    metadata.put(kv.getKey(), kv.getValue().textValue());
                }
                continue;
            }
            entries.add(parseEntry(file, name, v));
        }
        return entries;
    }

    private static Entry parseEntry(Path file, String name, JsonNode v) throws IOException {
        String where = "tensor " + quote(name);
        if (!v.isObject()) throw bad(file, where + ": entry must be an object, got " + v.getNodeType());
        for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
                throw bad(file, where + ": unknown field " + quote(k) + " (expected dtype, shape, data_offsets)");
            }
        }
        JsonNode dt = v.get("dtype"), sh = v.get("shape"), off = v.get("data_offsets");
        if (dt == null || sh == null || off == null) throw bad(file, where + ": needs dtype, shape and data_offsets");
        if (!dt.isTextual()) throw bad(file, where + ": dtype must be a string, got " + dt);
        FileDType dtype;
        try {
            dtype = FileDType.valueOf(dt.textValue());
        } catch (IllegalArgumentException e) {
            String what = OTHER_SAFETENSORS_DTYPES.contains(dt.textValue()) ? "unsupported dtype " : "unknown dtype ";
            throw bad(file, where + ": " + what + quote(dt.textValue()) + " (supported: " + Arrays.toString(FileDType.values()) + ")");
        }
        if (!sh.isArray()) throw bad(file, where + ": shape must be an array, got " + sh);
        int[] shape = new int[sh.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0 || d.longValue() > Integer.MAX_VALUE) {
                throw bad(file, where + ": shape " + sh + " has an invalid dim " + d + " (dims are integers in [0, 2^31-1])");
            }
            shape[i] = d.intValue();
        }
        for (int d : shape) {
            if (d == 0) { numel = 0; break; }
        }
        if (numel != 0) {
            for (int d : shape) {
                numel *= d;
                if (numel > Integer.MAX_VALUE) throw bad(file, where + ": shape " + sh + " has more than 2^31-1 elements, more than a tensor can hold");
            }
        }
        if (!off.isArray() || off.size() != 2) throw bad(file, where + ": data_offsets must be [begin, end], got " + off);
        long[] be = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode o = off.get(i);
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0) {
                throw bad(file, where + ": data_offsets " + off + " must be two non-negative integers");
            }
            be[i] = o.longValue();
        }
        if (be[1] < be[0]) throw bad(file, where + ": data_offsets " + off + " end before they begin");
        long want = numel * dtype.bytes;
        if (be[1] - be[0] != want) {
            throw bad(file, where + ": data_offsets " + off + " span " + (be[1] - be[0]) + " bytes but " + dtype + " " + Shape.str(shape)
                    + " needs " + numel + " x " + dtype.bytes + " = " + want);
        }
        return new Entry(name, dtype, shape, (int) numel, be[0], be[1]);
    }

    /** Sorted by offset, the tensors must tile {@code [0, dataLen)} exactly (the reference implementation's rule). */
    private static void checkLayout(Path file, List<Entry> entries, long dataLen) throws IOException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        Entry prev = null;
        for (Entry e : sorted) {
            if (e.end > dataLen) {
                throw bad(file, "tensor " + quote(e.name) + ": data_offsets [" + e.begin + ", " + e.end + "] reach beyond the end of the file (data area is "
                        + dataLen + " bytes)");
            }
            if (e.begin < expected) {
                throw bad(file, "tensor " + quote(e.name) + ": data_offsets [" + e.begin + ", " + e.end + "] overlap tensor " + quote(prev.name)
                        + " [" + prev.begin + ", " + prev.end + "]");
            }
            if (e.begin > expected) {
                throw bad(file, "tensor " + quote(e.name) + ": data_offsets [" + e.begin + ", " + e.end + "] leave a gap of " + (e.begin - expected)
                        + " bytes before them (tensors must be packed back to back)");
            }
            expected = e.end;
            prev = e;
        }
        if (expected != dataLen) {
            throw bad(file, (dataLen - expected) + " bytes after the last tensor's data are not described by the header (truncated header or trailing garbage)");
        }
    }

    private static Tensor readTensor(FileChannel ch, Path file, Entry e, long dataStart) throws IOException {
        int n = e.numel;
        FileDType dt = e.dtype;
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(8, (long) n * dt.bytes))).order(ByteOrder.LITTLE_ENDIAN);
        int per = buf.capacity() / dt.bytes; // elements per chunk
        long pos = dataStart + e.begin;
        Object dst = switch (dt.target) {
            case F32 -> new float[n];
            case F64 -> new double[n];
            case I32 -> new int[n];
        };
        for (int done = 0; done < n; ) {
            int k = Math.min(per, n - done);
            buf.clear().limit(k * dt.bytes);
            readFully(ch, buf, pos, file);
            buf.flip();
            switch (dt) {
                case F32 -> buf.asFloatBuffer().get((float[]) dst, done, k);
                case F64 -> buf.asDoubleBuffer().get((double[]) dst, done, k);
                case I32 -> buf.asIntBuffer().get((int[]) dst, done, k);
                case I64 -> {
                    int[] d = (int[]) dst;
                    for (int i = 0; i < k; i++) {
                        long x = buf.getLong(i * 8);
                        if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) {
                            throw bad(file, "tensor " + quote(e.name) + ": I64 value " + x + " at flat index " + (done + i)
                                    + " does not fit the I32 this engine uses for integers");
                        }
                        d[done + i] = (int) x;
                    }
                }
                case BF16 -> {
                    float[] d = (float[]) dst;
                    for (int i = 0; i < k; i++) d[done + i] = Float.intBitsToFloat((buf.getShort(i * 2) & 0xffff) << 16);
                }
                case F16 -> {
                    float[] d = (float[]) dst;
                    for (int i = 0; i < k; i++) d[done + i] = Float.float16ToFloat(buf.getShort(i * 2));
                }
            }
            done += k;
            pos += (long) k * dt.bytes;
        }
        return switch (dt.target) {
            case F32 -> Tensor.of((float[]) dst, e.shape);
            case F64 -> Tensor.of((double[]) dst, e.shape);
            case I32 -> Tensor.of((int[]) dst, e.shape);
        };
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path file) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) throw new EOFException("safetensors file " + file + ": ended early at byte " + pos + " (was it truncated while being read?)");
            pos += r;
        }
    }

    // ---------------------------------------------------------------- write

    /** {@link #write(Path, Map, Map)} without metadata. */
    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        write(file, tensors, null);
    }

    /**
     * Writes {@code tensors} (header in the map's iteration order) and {@code metadata} (may be null) to
     * {@code file} atomically: temp file in the same directory, fsync, rename over {@code file}.
     *
     * @throws IllegalArgumentException for an empty name, the name {@code __metadata__}, a null tensor or null metadata entry
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        // Header first (validates the arguments before any file is touched).
        List<Map.Entry<String, Tensor>> items = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty()) throw new IllegalArgumentException("safetensors write " + file + ": empty tensor name");
            if (name.equals(METADATA_KEY)) throw new IllegalArgumentException("safetensors write " + file + ": " + METADATA_KEY + " is reserved and cannot name a tensor");
            if (e.getValue() == null) throw new IllegalArgumentException("safetensors write " + file + ": tensor " + quote(name) + " is null");
            items.add(e);
        }
        // Data order: larger elements first (stable), so every tensor starts aligned to its element size.
        List<Map.Entry<String, Tensor>> dataOrder = new ArrayList<>(items);
        dataOrder.sort(Comparator.comparingInt((Map.Entry<String, Tensor> e) -> -e.getValue().dtype().bytes()));
        Map<String, long[]> offsets = new LinkedHashMap<>();
        long pos = 0;
        for (Map.Entry<String, Tensor> e : dataOrder) {
            long nbytes = (long) e.getValue().numel() * e.getValue().dtype().bytes();
            offsets.put(e.getKey(), new long[]{pos, pos + nbytes});
            pos += nbytes;
        }
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject(METADATA_KEY);
            for (Map.Entry<String, String> kv : metadata.entrySet()) {
                if (kv.getKey() == null || kv.getValue() == null) {
                    throw new IllegalArgumentException("safetensors write " + file + ": metadata entry " + kv.getKey() + "=" + kv.getValue() + " has a null");
                }
                m.put(kv.getKey(), kv.getValue());
            }
        }
        for (Map.Entry<String, Tensor> e : items) {
            Tensor t = e.getValue();
            ObjectNode o = header.putObject(e.getKey());
            o.put("dtype", FileDType.of(t.dtype()).name());
            ArrayNode s = o.putArray("shape");
            for (int d : t.shape()) s.add(d);
            long[] be = offsets.get(e.getKey());
            o.putArray("data_offsets").add(be[0]).add(be[1]);
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8; // 8 + padded is a multiple of 8
        if (padded > MAX_HEADER_BYTES) throw new IllegalArgumentException("safetensors write " + file + ": header of " + padded + " bytes exceeds the cap of " + MAX_HEADER_BYTES);
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();

        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        // Not Files.createTempFile: that makes the file 0600 on POSIX; CREATE_NEW gives the usual umask-based mode.
        Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE); // fails if it exists: nothing of ours to clean
        boolean moved = false;
        try {
            try (FileChannel ch = out) {
                writeFully(ch, head);
                ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                for (Map.Entry<String, Tensor> e : dataOrder) writeTensor(ch, buf, e.getValue());
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
            fsyncDirectory(dir);
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
        }
    }

    private static void writeTensor(FileChannel ch, ByteBuffer buf, Tensor t) throws IOException {
        Tensor c = t.contiguous();
        Object host = c.backend().toHost(c);
        int n = c.numel(), bytes = c.dtype().bytes(), per = buf.capacity() / bytes;
        for (int done = 0; done < n; ) {
            int k = Math.min(per, n - done);
            buf.clear();
            switch (c.dtype()) {
                case F32 -> buf.asFloatBuffer().put((float[]) host, done, k);
                case F64 -> buf.asDoubleBuffer().put((double[]) host, done, k);
                case I32 -> buf.asIntBuffer().put((int[]) host, done, k);
            }
            buf.limit(k * bytes);
            writeFully(ch, buf);
            done += k;
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    /** Makes the rename durable on Linux; some platforms cannot open a directory, which we accept. */
    private static void fsyncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // Not possible on this platform (e.g. Windows); the file itself was fsynced before the rename.
        }
    }

    // ---------------------------------------------------------------- helpers

    private static IOException bad(Path file, String msg) {
        return new IOException("safetensors file " + file + ": " + msg);
    }

    private static String quote(String s) {
        return "'" + s + "'";
    }
}
