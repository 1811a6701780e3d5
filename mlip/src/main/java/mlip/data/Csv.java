package mlip.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * A small RFC 4180 CSV reader and writer for the data set index files (MIMIC's split/chexpert/metadata
 * CSVs, CheXpert's 5x200). Reads {@code .csv} and {@code .csv.gz}; quoted cells may hold commas, quotes
 * ({@code ""}) and newlines. Every row remembers the line it starts on, and every problem is a
 * {@link DataFileException} naming the file and that line.
 *
 * <pre>{@code
 * Csv.Table t = Csv.read(root.resolve("mimic-cxr-2.0.0-split.csv"));
 * int split = t.column("split");
 * for (Csv.Row r : t.rows()) System.out.println(r.get(split));
 * }</pre>
 */
public final class Csv {

    private Csv() {
    }

    /** One data row: its cells and the 1-based line it starts on. */
    public record Row(int line, String[] cells) {
        public String get(int column) {
            return cells[column];
        }
    }

    /** A parsed file: header names and rows (each checked to have as many cells as the header). */
    public record Table(Path file, List<String> header, List<Row> rows) {

        /** Index of a header column. @throws DataFileException naming the file when it is missing */
        public int column(String name) throws DataFileException {
            int i = header.indexOf(name);
            if (i < 0) {
                throw new DataFileException(file, 1, "missing column '" + name + "' (header: " + String.join(",", header) + ")");
            }
            return i;
        }

        /** Index of a header column or -1. */
        public int columnOrMinus1(String name) {
            return header.indexOf(name);
        }
    }

    /**
     * Reads a whole CSV file with a header line. Blank lines are skipped.
     *
     * @throws DataFileException   for malformed content, naming file and line
     * @throws UncheckedIOException when the file cannot be read
     */
    public static Table read(Path file) {
        try {
            return readChecked(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    private static Table readChecked(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
            Parser p = new Parser(file, r);
            List<String> header = p.next();
            if (header == null) {
                throw new DataFileException(file, 1, "empty file, expected a header line");
            }
            if (!header.isEmpty() && header.get(0).startsWith("\uFEFF")) {
                header.set(0, header.get(0).substring(1)); // UTF-8 byte order mark
            }
            header.replaceAll(String::trim);
            List<Row> rows = new ArrayList<>();
            List<String> cells;
            while (true) {
                cells = p.next();
                if (cells == null) {
                    break;
                }
                if (cells.size() == 1 && cells.get(0).isEmpty()) {
                    continue; // blank line
                }
                if (cells.size() != header.size()) {
                    throw new DataFileException(file, p.startLine, "expected " + header.size() + " columns, got " + cells.size());
                }
                rows.add(new Row(p.startLine, cells.toArray(String[]::new)));
            }
            return new Table(file, List.copyOf(header), rows);
        }
    }

    /** Record-at-a-time parser that tracks physical line numbers (quoted cells may span lines). */
    private static final class Parser {
        final Path file;
        final BufferedReader r;
        int line; // physical lines consumed so far
        int startLine; // line the last record started on

        Parser(Path file, BufferedReader r) {
            this.file = file;
            this.r = r;
        }

        List<String> next() throws IOException {
            String s = r.readLine();
            if (s == null) {
                return null;
            }
            line++;
            startLine = line;
            List<String> cells = new ArrayList<>();
            StringBuilder cell = new StringBuilder();
            boolean quoted = false;
            int i = 0;
            while (true) {
                if (i == s.length()) {
                    if (quoted) { // newline inside a quoted cell
                        String more = r.readLine();
                        if (more == null) {
                            throw new DataFileException(file, startLine, "unterminated quoted cell");
                        }
                        line++;
                        cell.append('\n');
                        s = more;
                        i = 0;
                        continue;
                    }
                    cells.add(cell.toString());
                    return cells;
                }
                char c = s.charAt(i++);
                if (quoted) {
                    if (c == '"') {
                        if (i < s.length() && s.charAt(i) == '"') {
                            cell.append('"');
                            i++;
                        } else {
                            quoted = false;
                        }
                    } else {
                        cell.append(c);
                    }
                } else if (c == '"' && cell.isEmpty()) {
                    quoted = true;
                } else if (c == ',') {
                    cells.add(cell.toString());
                    cell.setLength(0);
                } else if (c != '\r' || i != s.length()) {
                    cell.append(c);
                }
            }
        }
    }

    /** Quotes a cell when it holds a comma, quote or newline. */
    public static String quote(String cell) {
        if (cell.indexOf(',') < 0 && cell.indexOf('"') < 0 && cell.indexOf('\n') < 0 && cell.indexOf('\r') < 0) {
            return cell;
        }
        return '"' + cell.replace("\"", "\"\"") + '"';
    }

    /** Joins cells into one CSV line (no line end). */
    public static String line(List<String> cells) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(quote(cells.get(i)));
        }
        return sb.toString();
    }

    /**
     * Writes text to {@code file} atomically enough: to a temp file in the same folder, then a move
     * (atomic where the file system allows), so a reader never sees half a file.
     */
    public static void writeAtomically(Path file, CharSequence text) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (java.nio.file.AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
