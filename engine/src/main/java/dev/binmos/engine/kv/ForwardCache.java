package dev.binmos.engine.kv;

import dev.binmos.engine.model.Configuration;

/**
 * Bookkeeping shared by the policies that drop positions (PoD's borrowed keys, StreamingLLM, H2O): what
 * they dropped cannot come back, so a session continues where it stopped or restarts from position 0.
 * Subclasses keep their state per layer and kv head in {@link Rows} of one head each.
 */
abstract class ForwardCache implements KvCache {
    final int layers;
    final int kvHeads;
    final int headSize;
    /** Query heads per kv head. */
    final int groupSize;
    final float scale;
    final KvPrecision precision;
    private final String policy;
    private final int capacity;
    private final int kvDim;
    /** Positions stored per layer (a stage's cache stores only its own layers). */
    private final int[] length;
    /** Positions held between steps. */
    private int held;
    int batchStart;
    private int batchCount;

    ForwardCache(String policy, Configuration config, int capacity, KvPrecision precision) {
        this.policy = policy;
        this.capacity = DenseKvCache.checkCapacity(config, capacity);
        this.layers = config.layers();
        this.kvHeads = config.kvHeads();
        this.headSize = config.headSize();
        this.groupSize = config.groupSize();
        this.kvDim = config.kvDim();
        this.scale = (float) (1.0 / Math.sqrt(headSize));
        this.precision = precision;
        this.length = new int[layers];
    }

    @Override
    public final int capacity() {
        return capacity;
    }

    @Override
    public final void checkBegin(int start) {
        if (start != 0 && start != held) {
            throw new IllegalArgumentException("a " + policy + " KV cache continues at position " + held
                    + " or restarts at 0; it cannot rewind to " + start + " (the positions it dropped are gone)");
        }
    }

    @Override
    public final void begin(int start, int count) {
        checkBegin(start);
        batchStart = start;
        batchCount = count;
        began(start, count);
    }

    @Override
    public final void store(int layer, int pos, float[] k, int kOffset, float[] v, int vOffset) {
        if (pos < 0 || pos >= capacity) {
            throw new IndexOutOfBoundsException("position " + pos + " outside the session's capacity " + capacity);
        }
        if (pos < length[layer]) {
            clear(layer);
        }
        length[layer] = pos + 1;
        for (int g = 0; g < kvHeads; g++) {
            put(layer, g, pos, k, kOffset + g * headSize, v, vOffset + g * headSize);
        }
    }

    @Override
    public final void end() {
        held = batchStart + batchCount;
        ended(held);
    }

    /** Positions of layer stored so far. */
    final int length(int layer) {
        return length[layer];
    }

    @Override
    public final long bytes() {
        long bytes = 0;
        for (int l = 0; l < layers; l++) {
            bytes += bytes(l);
        }
        return bytes;
    }

    @Override
    public final long denseBytes() {
        long bytes = 0;
        for (int l = 0; l < layers; l++) {
            bytes += precision.bytes((long) Math.ceilDiv(length[l], Rows.BLOCK) * Rows.BLOCK * 2 * kvDim, headSize);
        }
        return bytes;
    }

    /** A step over [start, start + count) began (after the rewind check). */
    abstract void began(int start, int count);

    /** The session restarts: forget every position of layer. */
    abstract void clear(int layer);

    /** Stores the key and value (headSize floats each) of kv head g. */
    abstract void put(int layer, int g, int pos, float[] k, int kOffset, float[] v, int vOffset);

    /** The step ended with positions [0, length) stored. */
    abstract void ended(int length);
}
