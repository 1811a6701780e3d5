package mlip.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * An image file that exists in the index but cannot be decoded at read time (corrupt, truncated, an
 * unsupported DICOM encoding, or gone since loading). Thrown by the loaders' {@code readImage}/{@code readMask};
 * their {@code readAll} catches it, skips the item and counts it in {@code skipped()}.
 *
 * <pre>{@code
 * try { img = rsna.readImage(item, 224); } catch (CorruptImageException e) { log(e.file() + ": " + e.getMessage()); }
 * }</pre>
 */
public class CorruptImageException extends UncheckedIOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public CorruptImageException(Path file, IOException cause) {
        super(cause.getMessage() != null && cause.getMessage().contains(file.toString()) ? cause.getMessage() : file + ": " + cause.getMessage(), cause);
        this.file = file;
    }

    /** The image that could not be read. */
    public Path file() {
        return file;
    }
}
