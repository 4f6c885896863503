package dev.binmos.engine.kv;

import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.util.Buffers;
import java.util.Arrays;

/**
 * Every key and value of every layer, per kv head in blocks of {@link #BLOCK} positions × headSize
 * allocated as the session grows, so a session reserves memory only for what it has seen and the state
 * can later be moved block by block. Per head, because a head attends over its own rows: in rows of
 * kvDim, each of its positions was a new page (4 KB apart for a Q8_0 7B cache), and decode attention
 * measured 1.4× slower.
 */
public final class DenseKvCache implements KvCache {
    public static final int BLOCK = Rows.BLOCK;

    private final int capacity;
    private final int headSize;
    private final int groupSize;
    private final float scale;
    /** [layer][kv head]. */
    private final Rows[][] keys;
    private final Rows[][] values;

    public DenseKvCache(Configuration config, int capacity) {
        this(config, capacity, KvPrecision.F32);
    }

    public DenseKvCache(Configuration config, int capacity, KvPrecision precision) {
        this.capacity = checkCapacity(config, capacity);
        this.headSize = config.headSize();
        this.groupSize = config.groupSize();
        this.scale = (float) (1.0 / Math.sqrt(headSize));
        this.keys = new Rows[config.layers()][config.kvHeads()];
        this.values = new Rows[config.layers()][config.kvHeads()];
        for (int l = 0; l < config.layers(); l++) {
            for (int g = 0; g < config.kvHeads(); g++) {
                keys[l][g] = Rows.of(precision, headSize, headSize);
                values[l][g] = Rows.of(precision, headSize, headSize);
            }
        }
    }

    static int checkCapacity(Configuration config, int capacity) {
        if (capacity < 1 || capacity > config.contextLength()) {
            throw new IllegalArgumentException("capacity must be in [1, " + config.contextLength() + "], got " + capacity);
        }
        return capacity;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public void store(int layer, int pos, float[] k, int kOffset, float[] v, int vOffset) {
        if (pos < 0 || pos >= capacity) {
            throw new IndexOutOfBoundsException("position " + pos + " outside the session's capacity " + capacity);
        }
        for (int g = 0; g < keys[layer].length; g++) {
            keys[layer][g].put(pos, k, kOffset + g * headSize);
            values[layer][g].put(pos, v, vOffset + g * headSize);
        }
    }

    @Override
    public void attend(int layer, int head, int pos, float[] q, int qOffset, float[] out, int outOffset, float[] scores) {
        int g = head / groupSize;
        keys[layer][g].dots(0, pos + 1, 0, q, qOffset, headSize, scale, scores, 0);
        Softmax.normalize(scores, 0, pos + 1, pos + 1, pos + 1);
        Arrays.fill(out, outOffset, outOffset + headSize, 0f);
        values[layer][g].accumulate(scores, 0, 0, pos + 1, 0, out, outOffset, headSize);
    }

    /**
     * Every query of the block against each key and value read once ({@link Rows#dotsCausal},
     * {@link Rows#accumulateCausal}): a prompt chunk of 64 positions reads the cache once per head instead of
     * 64 times, with the same floats as {@link #attend} per position.
     */
    @Override
    public void attend(int layer, int firstHead, int heads, int headSize, int pos, int count, float[] q, int qOffset, int stride,
                       float[] out, float[] scores) {
        if (count == 1) {
            KvCache.super.attend(layer, firstHead, heads, headSize, pos, count, q, qOffset, stride, out, scores);
            return;
        }
        int g = firstHead / groupSize;
        int keys = pos + count;
        Block block = BLOCKS.get();
        float[] p = block.probabilities = Buffers.grown(block.probabilities, count * keys);
        float[] qs = block.queries = Buffers.grown(block.queries, count * headSize);
        float[] ys = block.outputs = Buffers.grown(block.outputs, count * headSize);
        for (int h = 0; h < heads; h++) {
            // the block's queries and outputs side by side: in q and out they lie a whole hidden row apart
            for (int t = 0; t < count; t++) {
                System.arraycopy(q, qOffset + t * stride + h * headSize, qs, t * headSize, headSize);
            }
            this.keys[layer][g].dotsCausal(pos, count, 0, qs, headSize, scale, p, keys);
            for (int t = 0; t < count; t++) {
                int end = t * keys + pos + t + 1;
                Softmax.normalize(p, t * keys, end, end, end);
            }
            Arrays.fill(ys, 0, count * headSize, 0f);
            values[layer][g].accumulateCausal(p, keys, pos, count, 0, ys, headSize);
            for (int t = 0; t < count; t++) {
                System.arraycopy(ys, t * headSize, out, qOffset + t * stride + h * headSize, headSize);
            }
        }
    }

    /** Scratch of {@link #attend} for a block, per thread (kv heads attend concurrently). */
    private static final class Block {
        float[] probabilities = new float[0];
        float[] queries = new float[0];
        float[] outputs = new float[0];
    }

    private static final ThreadLocal<Block> BLOCKS = ThreadLocal.withInitial(Block::new);

    @Override
    public long bytes() {
        long bytes = 0;
        for (int l = 0; l < keys.length; l++) {
            bytes += bytes(l);
        }
        return bytes;
    }

    @Override
    public long bytes(int layer) {
        long bytes = 0;
        for (int g = 0; g < keys[layer].length; g++) {
            bytes += keys[layer][g].bytes() + values[layer][g].bytes();
        }
        return bytes;
    }

    @Override
    public long denseBytes() {
        return bytes();
    }
}
