package dev.binmos.engine.kv;

import dev.binmos.engine.model.Configuration;

/**
 * A dense cache that also keeps the attention probabilities of the positions from {@code from} on, for
 * every layer and query head: what PoD calibration compares between layers.
 */
final class AttentionRecorder implements KvCache {
    private final DenseKvCache dense;
    private final int from;
    /** [layer][head][pos − from]: probabilities over [0, pos]. */
    private final float[][][][] recorded;

    AttentionRecorder(Configuration config, int capacity, int from) {
        this.dense = new DenseKvCache(config, capacity);
        this.from = from;
        this.recorded = new float[config.layers()][config.heads()][Math.max(0, capacity - from)][];
    }

    /** [layer][head][probe]: the distribution of query position from + probe. */
    float[][][][] recorded() {
        return recorded;
    }

    @Override
    public int capacity() {
        return dense.capacity();
    }

    @Override
    public void store(int layer, int pos, float[] k, int kOffset, float[] v, int vOffset) {
        dense.store(layer, pos, k, kOffset, v, vOffset);
    }

    @Override
    public void attend(int layer, int head, int pos, float[] q, int qOffset, float[] out, int outOffset, float[] scores) {
        dense.attend(layer, head, pos, q, qOffset, out, outOffset, scores);
        if (pos >= from) {
            recorded[layer][head][pos - from] = java.util.Arrays.copyOf(scores, pos + 1);
        }
    }

    @Override
    public long bytes() {
        return dense.bytes();
    }

    @Override
    public long bytes(int layer) {
        return dense.bytes(layer);
    }

    @Override
    public long denseBytes() {
        return dense.denseBytes();
    }
}
