package dev.binmos.engine.kv;

/**
 * The bytes a session's cache holds between steps, as a closed form of its length n, for a range of
 * layers: the part every position keeps (values; dense or anchor keys) plus the part only proximal
 * positions keep (borrowers' keys; everything for StreamingLLM and H2O), both in whole blocks:
 * <pre>
 * bytes(n) = blocks(n) · perPosition + (blocks(min(n, sinks)) + blocks(min(n − sinks, window − 1))) · proximalPerPosition
 * </pre>
 * where blocks(m) rounds m ≥ 0 up to a multiple of {@link #BLOCK}. A worker reserves this for a session and
 * announces its terms, so the router computes the same figure without knowing the policy. For H2O with
 * per-head choices it is an upper bound.
 */
public record KvFootprint(long perPosition, long proximalPerPosition, int sinks, int window) {
    /** Positions per allocated block. */
    public static final int BLOCK = Rows.BLOCK;

    public KvFootprint {
        if (perPosition < 0 || proximalPerPosition < 0 || sinks < 0 || window < 1) {
            throw new IllegalArgumentException("invalid footprint " + perPosition + ", " + proximalPerPosition + ", " + sinks + ", " + window);
        }
    }

    /** Keeps every position of every layer: no proximal part. */
    static KvFootprint dense(long perPosition) {
        return new KvFootprint(perPosition, 0, 0, 1);
    }

    /** Bytes held after n positions. */
    public long bytes(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("negative length " + n);
        }
        return blocks(n) * perPosition + (blocks(Math.min(n, sinks)) + blocks(Math.clamp(n - (long) sinks, 0, window - 1))) * proximalPerPosition;
    }

    private static long blocks(long positions) {
        return (positions + BLOCK - 1) / BLOCK * BLOCK;
    }
}
