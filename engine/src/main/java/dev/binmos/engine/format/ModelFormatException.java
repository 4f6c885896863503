package dev.binmos.engine.format;

import java.nio.file.Path;

/** A model or tokenizer file that cannot be read as what it claims to be; the message names file and field. */
public class ModelFormatException extends RuntimeException {

    public ModelFormatException(Path file, String field, String problem) {
        super(file + ": " + field + ": " + problem);
    }

    public ModelFormatException(Path file, String field, String problem, Throwable cause) {
        super(file + ": " + field + ": " + problem, cause);
    }
}
