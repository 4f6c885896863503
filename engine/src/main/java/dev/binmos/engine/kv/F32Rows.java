package dev.binmos.engine.kv;

import dev.binmos.engine.tensor.Lanes;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** {@link Rows} of floats. */
final class F32Rows extends Rows {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private final List<float[]> blocks = new ArrayList<>();

    F32Rows(int width, int headSize) {
        super(width, headSize);
    }

    @Override
    KvPrecision precision() {
        return KvPrecision.F32;
    }

    @Override
    void put(int slot, float[] src, int offset) {
        while (blocks.size() <= slot / BLOCK) {
            blocks.add(new float[BLOCK * width]);
        }
        System.arraycopy(src, offset, blocks.get(slot / BLOCK), (slot % BLOCK) * width, width);
    }

    @Override
    void get(int slot, float[] dst, int offset) {
        System.arraycopy(blocks.get(slot / BLOCK), (slot % BLOCK) * width, dst, offset, width);
    }

    @Override
    void dots(int from, int to, int offset, float[] q, int qOffset, int n, float scale, float[] out, int outOffset) {
        for (int s = from; s < to; ) {
            float[] block = blocks.get(s / BLOCK);
            for (int end = Math.min(to, (s / BLOCK + 1) * BLOCK); s < end; s++) {
                out[outOffset + s - from] = dot(q, qOffset, block, (s % BLOCK) * width + offset, n) * scale;
            }
        }
    }

    @Override
    void accumulate(float[] p, int pOffset, int from, int to, int offset, float[] y, int yOffset, int n) {
        for (int s = from; s < to; ) {
            float[] block = blocks.get(s / BLOCK);
            for (int end = Math.min(to, (s / BLOCK + 1) * BLOCK); s < end; s++) {
                axpy(p[pOffset + s - from], block, (s % BLOCK) * width + offset, y, yOffset, n);
            }
        }
    }

    @Override
    int blocks() {
        return blocks.size();
    }

    @Override
    void truncate(int keep) {
        blocks.subList(Math.min(keep, blocks.size()), blocks.size()).clear();
    }

    static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= S.length()) {
            FloatVector acc = FloatVector.zero(S);
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                acc = FloatVector.fromArray(S, a, aOffset + i).fma(FloatVector.fromArray(S, b, bOffset + i), acc);
            }
            sum = Lanes.sum(acc);
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
