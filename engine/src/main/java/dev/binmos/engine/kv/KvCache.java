package dev.binmos.engine.kv;

/**
 * The attention state of one session. One implementation per policy (dense, PoD, StreamingLLM, H2O):
 * the forward pass stores every position's keys and values and asks for attention outputs, and never
 * knows which policy keeps what.
 */
public interface KvCache {

    /** Positions this cache can hold. */
    int capacity();

    /** Stores the key and value ({@code kvDim} floats each) of position {@code pos} in {@code layer}. */
    void store(int layer, int pos, float[] k, int kOffset, float[] v, int vOffset);

    /**
     * Attention of query head {@code head} at position {@code pos} over the positions [0, pos] this
     * policy keeps: writes {@code headSize} floats to out.
     *
     * @param scores scratch of at least {@code pos + 1} floats
     */
    void attend(int layer, int head, int pos, float[] q, int qOffset, float[] out, int outOffset, float[] scores);

    /** Bytes of keys and values held now. */
    long bytes();
}
