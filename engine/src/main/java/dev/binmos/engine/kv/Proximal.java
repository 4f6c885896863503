package dev.binmos.engine.kv;

/**
 * The proximal positions of one layer's kv head: the first {@code sinks} positions and a rolling window.
 * A query's window is the last {@code window} positions up to and including itself, so between steps
 * the last {@code window − 1} positions are kept. While a step runs it also holds every position the
 * step stores past the sinks, since each of the step's queries needs the window as it was at its own
 * position; {@link #end} keeps the last {@code window − 1} of them. Positions in between are never kept.
 */
final class Proximal {
    private final int sinks;
    /** Positions kept between steps besides the sinks: window − 1. */
    private final int ringSize;
    private final KvPrecision precision;
    private final int width;
    private final Rows sinkRows;
    /** Position p ≥ sinks of the window lives in slot (p − sinks) mod ringSize. */
    private final Rows ring;
    /** Position p ≥ batchFrom of the running step lives in slot p − batchFrom. */
    private Rows batch;
    private int batchFrom;

    Proximal(int sinks, int window, KvPrecision precision, int width) {
        this.sinks = sinks;
        this.ringSize = window - 1;
        this.precision = precision;
        this.width = width;
        this.sinkRows = Rows.of(precision, width, width);
        this.ring = Rows.of(precision, width, width);
    }

    /** A step starting at position start begins. */
    void begin(int start) {
        batch = null;
        batchFrom = Math.max(start, sinks);
    }

    void put(int pos, float[] src, int offset) {
        if (pos < sinks) {
            sinkRows.put(pos, src, offset);
            return;
        }
        if (batch == null) {
            batch = Rows.of(precision, width, width);
        }
        batch.put(pos - batchFrom, src, offset);
    }

    /** Logits of positions [from, to), all proximal, into out[from, to) (see {@link Rows#dots}). */
    void dots(int from, int to, int offset, float[] q, int qOffset, int n, float scale, float[] out) {
        if (from < Math.min(to, sinks)) {
            sinkRows.dots(from, Math.min(to, sinks), offset, q, qOffset, n, scale, out, from);
        }
        int a = Math.max(from, sinks);
        int b = Math.min(to, batchFrom);
        if (a < b) {
            int first = (a - sinks) % ringSize;
            int run = Math.min(b - a, ringSize - first);
            ring.dots(first, first + run, offset, q, qOffset, n, scale, out, a);
            if (run < b - a) {
                ring.dots(0, b - a - run, offset, q, qOffset, n, scale, out, a + run);
            }
        }
        a = Math.max(from, batchFrom);
        if (a < to) {
            batch.dots(a - batchFrom, to - batchFrom, offset, q, qOffset, n, scale, out, a);
        }
    }

    /** y += Σ p[t] · row(t) over the positions t in [from, to), all proximal (see {@link Rows#accumulate}). */
    void accumulate(float[] p, int from, int to, int offset, float[] y, int yOffset, int n) {
        if (from < Math.min(to, sinks)) {
            sinkRows.accumulate(p, from, from, Math.min(to, sinks), offset, y, yOffset, n);
        }
        int a = Math.max(from, sinks);
        int b = Math.min(to, batchFrom);
        if (a < b) {
            int first = (a - sinks) % ringSize;
            int run = Math.min(b - a, ringSize - first);
            ring.accumulate(p, a, first, first + run, offset, y, yOffset, n);
            if (run < b - a) {
                ring.accumulate(p, a + run, 0, b - a - run, offset, y, yOffset, n);
            }
        }
        a = Math.max(from, batchFrom);
        if (a < to) {
            batch.accumulate(p, a, a - batchFrom, to - batchFrom, offset, y, yOffset, n);
        }
    }

    /** The step ended with {@code length} positions stored: what the next query's window needs moves into the ring. */
    void end(int length, float[] scratch) {
        if (batch != null) {
            for (int p = Math.max(batchFrom, length - ringSize); p < length; p++) {
                batch.copy(p - batchFrom, ring, (p - sinks) % ringSize, scratch);
            }
        }
        batch = null;
    }

    void clear() {
        sinkRows.truncate(0);
        ring.truncate(0);
        batch = null;
    }

    long bytes() {
        return sinkRows.bytes() + ring.bytes() + (batch == null ? 0 : batch.bytes());
    }
}
