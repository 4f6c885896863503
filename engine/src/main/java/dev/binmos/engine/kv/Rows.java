package dev.binmos.engine.kv;

/**
 * Keys or values: numbered slots of {@code width} numbers, stored in blocks of {@link #BLOCK} slots that
 * are allocated on first write. Every cache policy keeps its state in these, so one pair of kernels
 * (scores against keys, probability-weighted sum of values) serves them all.
 */
abstract sealed class Rows permits F32Rows, F16Rows, Q8Rows {
    static final int BLOCK = 16;

    final int width;
    /** Slots hold whole heads of this size (Q8_0 scales never span two). */
    final int headSize;

    Rows(int width, int headSize) {
        this.width = width;
        this.headSize = headSize;
    }

    static Rows of(KvPrecision precision, int width, int headSize) {
        return switch (precision) {
            case F32 -> new F32Rows(width, headSize);
            case F16 -> new F16Rows(width, headSize);
            case Q8_0 -> new Q8Rows(width, headSize);
        };
    }

    abstract KvPrecision precision();

    /** Writes {@code width} numbers from src into slot, allocating its block when needed. */
    abstract void put(int slot, float[] src, int offset);

    /** Reads slot into dst. */
    abstract void get(int slot, float[] dst, int offset);

    /**
     * Attention logits: out[outOffset + i] = (q · slot(from + i)[offset, offset + n)) · scale for the
     * slots [from, to).
     */
    abstract void dots(int from, int to, int offset, float[] q, int qOffset, int n, float scale, float[] out, int outOffset);

    /** y[yOffset + j] += Σ_i p[pOffset + i] · slot(from + i)[offset + j], j < n, over the slots [from, to), in slot order. */
    abstract void accumulate(float[] p, int pOffset, int from, int to, int offset, float[] y, int yOffset, int n);

    /**
     * For the queries t &lt; count, side by side at q[t · n]: out[t · keys + s] = {@link #dots} of query t
     * with the slots s ≤ pos + t (the positions a query at pos + t sees), the same floats.
     */
    void dotsCausal(int pos, int count, int offset, float[] q, int n, float scale, float[] out, int keys) {
        for (int t = 0; t < count; t++) {
            dots(0, pos + t + 1, offset, q, t * n, n, scale, out, t * keys);
        }
    }

    /**
     * For the queries t &lt; count: y[t · n + j] += Σ_{s ≤ pos + t} p[t · keys + s] · slot(s)[offset + j], as
     * {@link #accumulate} adds them, in slot order.
     */
    void accumulateCausal(float[] p, int keys, int pos, int count, int offset, float[] y, int n) {
        for (int t = 0; t < count; t++) {
            accumulate(p, t * keys, 0, pos + t + 1, offset, y, t * n, n);
        }
    }

    /** Blocks allocated. */
    abstract int blocks();

    /** Releases every block from index {@code keep} on. */
    abstract void truncate(int keep);

    final long bytes() {
        return precision().bytes((long) blocks() * BLOCK * width, headSize);
    }

    /** Copies slot {@code from} into slot {@code to} of target (same width and precision), exactly as stored. */
    void copy(int from, Rows target, int to, float[] scratch) {
        get(from, scratch, 0);
        target.put(to, scratch, 0);
    }
}
