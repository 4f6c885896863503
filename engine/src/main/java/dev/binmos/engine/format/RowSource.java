package dev.binmos.engine.format;

/**
 * Produces a tensor for a writer one row at a time, so a multi-gigabyte tensor never has to be in memory
 * at once. Writers ask for rows 0, 1, 2, … in order, exactly once each.
 */
@FunctionalInterface
public interface RowSource {

    /** Fills {@code values} (one row: the innermost dimension) with row {@code row}. */
    void fill(long row, float[] values);

    /** Rows of a row-major array. */
    static RowSource of(float[] values) {
        return (row, out) -> System.arraycopy(values, Math.toIntExact(row * out.length), out, 0, out.length);
    }
}
