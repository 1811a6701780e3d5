package mlip.data;

import java.nio.file.Path;

/**
 * Bad content in a data file (CSV, JSONL), with the file and the 1-based line number in the message,
 * e.g. {@code mimic-cxr-2.0.0-split.csv line 17: expected 4 columns, got 3}.
 *
 * <p>Unchecked, like the {@link java.io.UncheckedIOException}s the loaders throw for I/O failures, so
 * loading fits in lambdas and streams; the message is meant for the user as it is (DESIGN.md section 8:
 * a clear error, never a stack trace from deep inside a parser).
 */
public class DataFileException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final int line;

    /** @param line 1-based line number, or 0 when the problem concerns the whole file */
    public DataFileException(Path file, int line, String message) {
        super(format(file, line, message));
        this.file = file;
        this.line = line;
    }

    public DataFileException(Path file, int line, String message, Throwable cause) {
        super(format(file, line, message), cause);
        this.file = file;
        this.line = line;
    }

    private static String format(Path file, int line, String message) {
        String name = file.getFileName() == null ? file.toString() : file.getFileName().toString();
        return line > 0 ? name + " line " + line + ": " + message : name + ": " + message;
    }

    /** The file that holds the bad content. */
    public Path file() {
        return file;
    }

    /** 1-based line number, 0 for the whole file. */
    public int line() {
        return line;
    }
}
