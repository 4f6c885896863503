package dev.binmos.engine.kv;

import dev.binmos.engine.model.Configuration;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Every key and value of every layer, in F32 blocks of {@link #BLOCK} positions allocated as the
 * session grows, so a session reserves memory only for what it has seen and the state can later be
 * moved block by block.
 */
public final class DenseKvCache implements KvCache {
    public static final int BLOCK = 16;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private final int capacity;
    private final int kvDim;
    private final int headSize;
    private final int groupSize;
    private final float scale;
    private final List<List<float[]>> keys;
    private final List<List<float[]>> values;

    public DenseKvCache(Configuration config, int capacity) {
        if (capacity < 1 || capacity > config.contextLength()) {
            throw new IllegalArgumentException("capacity must be in [1, " + config.contextLength() + "], got " + capacity);
        }
        this.capacity = capacity;
        this.kvDim = config.kvDim();
        this.headSize = config.headSize();
        this.groupSize = config.groupSize();
        this.scale = (float) (1.0 / Math.sqrt(headSize));
        this.keys = new ArrayList<>(config.layers());
        this.values = new ArrayList<>(config.layers());
        for (int l = 0; l < config.layers(); l++) {
            keys.add(new ArrayList<>());
            values.add(new ArrayList<>());
        }
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
        List<float[]> kBlocks = keys.get(layer);
        List<float[]> vBlocks = values.get(layer);
        while (kBlocks.size() <= pos / BLOCK) {
            kBlocks.add(new float[BLOCK * kvDim]);
            vBlocks.add(new float[BLOCK * kvDim]);
        }
        int at = (pos % BLOCK) * kvDim;
        System.arraycopy(k, kOffset, kBlocks.get(pos / BLOCK), at, kvDim);
        System.arraycopy(v, vOffset, vBlocks.get(pos / BLOCK), at, kvDim);
    }

    @Override
    public void attend(int layer, int head, int pos, float[] q, int qOffset, float[] out, int outOffset, float[] scores) {
        List<float[]> kBlocks = keys.get(layer);
        List<float[]> vBlocks = values.get(layer);
        int headOffset = (head / groupSize) * headSize;
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t <= pos; t++) {
            float s = dot(q, qOffset, kBlocks.get(t / BLOCK), (t % BLOCK) * kvDim + headOffset, headSize) * scale;
            scores[t] = s;
            max = Math.max(max, s);
        }
        float sum = 0f;
        for (int t = 0; t <= pos; t++) {
            scores[t] = (float) Math.exp(scores[t] - max);
            sum += scores[t];
        }
        java.util.Arrays.fill(out, outOffset, outOffset + headSize, 0f);
        for (int t = 0; t <= pos; t++) {
            axpy(scores[t] / sum, vBlocks.get(t / BLOCK), (t % BLOCK) * kvDim + headOffset, out, outOffset, headSize);
        }
    }

    @Override
    public long bytes() {
        long blocks = 0;
        for (List<float[]> layer : keys) {
            blocks += layer.size();
        }
        return blocks * 2L * BLOCK * kvDim * Float.BYTES;
    }

    static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= S.length()) {
            FloatVector acc = FloatVector.zero(S);
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                acc = FloatVector.fromArray(S, a, aOffset + i).fma(FloatVector.fromArray(S, b, bOffset + i), acc);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    /** y += a · x */
    static void axpy(float a, float[] x, int xOffset, float[] y, int yOffset, int n) {
        int i = 0;
        if (n >= S.length()) {
            FloatVector va = FloatVector.broadcast(S, a);
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                FloatVector.fromArray(S, x, xOffset + i).fma(va, FloatVector.fromArray(S, y, yOffset + i)).intoArray(y, yOffset + i);
            }
        }
        for (; i < n; i++) {
            y[yOffset + i] += a * x[xOffset + i];
        }
    }
}
