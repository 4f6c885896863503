package dev.binmos.engine.kv;

import dev.binmos.engine.model.Configuration;
import java.util.Arrays;

/**
 * StreamingLLM (Xiao et al.): a query at position p attends only to the first {@code sinks} positions
 * (attention sinks) and the last {@code window} up to p (as PoD's proximal positions); every other key
 * and value is dropped, so between steps it holds sinks + window − 1 positions.
 */
public final class StreamingKvCache extends ForwardCache {
    private final int sinks;
    private final int window;
    private final Proximal[][] keys;
    private final Proximal[][] values;
    private final float[] scratch;

    public StreamingKvCache(Configuration config, int capacity, int sinks, int window, KvPrecision precision) {
        super("StreamingLLM", config, capacity, precision);
        if (sinks < 0 || window < 1) {
            throw new IllegalArgumentException("StreamingLLM needs sinks >= 0 and window >= 1, got " + sinks + " and " + window);
        }
        this.sinks = sinks;
        this.window = window;
        this.keys = new Proximal[layers][kvHeads];
        this.values = new Proximal[layers][kvHeads];
        for (int l = 0; l < layers; l++) {
            for (int g = 0; g < kvHeads; g++) {
                keys[l][g] = new Proximal(sinks, window, precision, headSize);
                values[l][g] = new Proximal(sinks, window, precision, headSize);
            }
        }
        this.scratch = new float[headSize];
    }

    @Override
    void began(int start, int count) {
        for (int l = 0; l < layers; l++) {
            for (int g = 0; g < kvHeads; g++) {
                keys[l][g].begin(start);
                values[l][g].begin(start);
            }
        }
    }

    @Override
    void clear(int layer) {
        for (int g = 0; g < kvHeads; g++) {
            keys[layer][g].clear();
            values[layer][g].clear();
        }
    }

    @Override
    void put(int layer, int g, int pos, float[] k, int kOffset, float[] v, int vOffset) {
        keys[layer][g].put(pos, k, kOffset);
        values[layer][g].put(pos, v, vOffset);
    }

    @Override
    public void attend(int layer, int head, int pos, float[] q, int qOffset, float[] out, int outOffset, float[] scores) {
        int g = head / groupSize;
        int sinksEnd = Math.min(sinks, pos + 1);
        int windowStart = Math.max(sinksEnd, pos + 1 - window);
        keys[layer][g].dots(0, sinksEnd, 0, q, qOffset, headSize, scale, scores);
        keys[layer][g].dots(windowStart, pos + 1, 0, q, qOffset, headSize, scale, scores);
        Softmax.normalize(scores, 0, sinksEnd, windowStart, pos + 1);
        Arrays.fill(scores, sinksEnd, windowStart, 0f);
        Arrays.fill(out, outOffset, outOffset + headSize, 0f);
        values[layer][g].accumulate(scores, 0, sinksEnd, 0, out, outOffset, headSize);
        values[layer][g].accumulate(scores, windowStart, pos + 1, 0, out, outOffset, headSize);
    }

    @Override
    void ended(int length) {
        for (int l = 0; l < layers; l++) {
            for (int g = 0; g < kvHeads; g++) {
                keys[l][g].end(length, scratch);
                values[l][g].end(length, scratch);
            }
        }
    }

    @Override
    public long bytes(int layer) {
        long bytes = 0;
        for (int g = 0; g < kvHeads; g++) {
            bytes += keys[layer][g].bytes() + values[layer][g].bytes();
        }
        return bytes;
    }
}
