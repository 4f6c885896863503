package dev.binmos.engine.kv;

/**
 * The attention state of one session. One implementation per policy (dense, PoD, StreamingLLM, H2O):
 * the forward pass stores every position's keys and values and asks for attention outputs, and never
 * knows which policy keeps what.
 *
 * <p>A forward step over positions [start, start + count) calls {@link #begin}, then for each layer in
 * order: {@link #store} for every position, then {@link #attend} for every (position, query head), then,
 * after its last layer, {@link #end}. Within one layer, the query heads of one kv head are attended
 * position by position in increasing order, heads in increasing order; different kv heads may be
 * attended concurrently.
 */
public interface KvCache {

    /** Positions this cache can hold. */
    int capacity();

    /**
     * A step over positions [start, start + count) begins. Throws IllegalArgumentException, having
     * changed nothing, when the policy cannot continue at start: a dense cache rewinds anywhere, the
     * others continue where they stopped or restart from position 0.
     */
    default void begin(int start, int count) {
        checkBegin(start);
    }

    /** Throws IllegalArgumentException, as {@link #begin} would, when a step cannot begin at start. */
    default void checkBegin(int start) {
    }

    /** Stores the key and value ({@code kvDim} floats each) of position {@code pos} in {@code layer}. */
    void store(int layer, int pos, float[] k, int kOffset, float[] v, int vOffset);

    /**
     * Attention of query head {@code head} at position {@code pos} over the positions [0, pos] this
     * policy keeps: writes {@code headSize} floats to out.
     *
     * @param scores scratch of at least {@code pos + 1} floats; on return scores[t] is the attention
     *               probability of position t, 0 for positions the policy does not keep
     */
    void attend(int layer, int head, int pos, float[] q, int qOffset, float[] out, int outOffset, float[] scores);

    /**
     * Attention of the query heads [firstHead, firstHead + heads) of one kv head at the positions [pos,
     * pos + count): {@link #attend} for each position in increasing order and, within one, each head in
     * increasing order, which is what this default does. Query (t, h) is the headSize floats at q[qOffset +
     * t · stride + (h − firstHead) · headSize], and its output goes to the same offset of out. A policy may
     * read each cached entry once for all of them instead, if every float comes out the same.
     *
     * @param scores scratch of at least {@code pos + count} floats
     */
    default void attend(int layer, int firstHead, int heads, int headSize, int pos, int count, float[] q, int qOffset, int stride,
                        float[] out, float[] scores) {
        for (int t = 0; t < count; t++) {
            for (int h = 0; h < heads; h++) {
                int offset = qOffset + t * stride + h * headSize;
                attend(layer, firstHead + h, pos + t, q, offset, out, offset, scores);
            }
        }
    }

    /** The step has attended every position in every layer it runs: what no later position needs may go. */
    default void end() {
    }

    /** Bytes of keys and values held now, batch buffers of a running step included. */
    long bytes();

    /** {@link #bytes()} of one layer. */
    long bytes(int layer);

    /** Bytes a dense cache of the same precision would hold for the positions stored so far. */
    long denseBytes();

    default KvStats stats() {
        return new KvStats(bytes(), denseBytes());
    }
}
