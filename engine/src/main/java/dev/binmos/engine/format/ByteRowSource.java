package dev.binmos.engine.format;

/**
 * Produces a tensor's raw bytes for a writer one row at a time (for types written as stored, such as
 * BinaryMoS packed signs). Writers ask for rows 0, 1, 2, … in order, exactly once each.
 */
@FunctionalInterface
public interface ByteRowSource {

    /** Fills {@code bytes} (one row, as stored in the file) with row {@code row}. */
    void fill(long row, byte[] bytes);
}
