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
            int end = Math.min(to, (s / BLOCK + 1) * BLOCK);
            for (; s + 2 <= end; s += 2) {
                dots2(q, qOffset, block, (s % BLOCK) * width + offset, n, scale, out, outOffset + s - from);
            }
            for (; s < end; s++) {
                out[outOffset + s - from] = dot(q, qOffset, block, (s % BLOCK) * width + offset, n) * scale;
            }
        }
    }

    /**
     * {@link #dot} of two consecutive slots (width apart), times scale, into out[o] and out[o + 1]: the same
     * operations for each, interleaved so that one chain of fused multiply-adds fills the other's latency.
     */
    private void dots2(float[] q, int qOffset, float[] k, int kOffset, int n, float scale, float[] out, int o) {
        int i = 0;
        float a = 0f;
        float b = 0f;
        if (n >= S.length()) {
            FloatVector accA = FloatVector.zero(S);
            FloatVector accB = accA;
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                FloatVector x = FloatVector.fromArray(S, q, qOffset + i);
                accA = FloatVector.fromArray(S, k, kOffset + i).fma(x, accA);
                accB = FloatVector.fromArray(S, k, kOffset + width + i).fma(x, accB);
            }
            a = Lanes.sum(accA);
            b = Lanes.sum(accB);
        }
        for (; i < n; i++) {
            a += q[qOffset + i] * k[kOffset + i];
            b += q[qOffset + i] * k[kOffset + width + i];
        }
        out[o] = a * scale;
        out[o + 1] = b * scale;
    }

    /**
     * y += p[s] · slot(s) for every slot, a fused multiply-add per number and slot in slot order (the tail
     * past whole vectors unfused): four vectors of y held in registers over all slots, not a load and
     * store of y per slot.
     */
    @Override
    void accumulate(float[] p, int pOffset, int from, int to, int offset, float[] y, int yOffset, int n) {
        int lanes = S.length();
        int bound = n >= lanes ? S.loopBound(n) : 0;
        int c = 0;
        for (; c + 4 * lanes <= bound; c += 4 * lanes) {
            FloatVector y0 = FloatVector.fromArray(S, y, yOffset + c);
            FloatVector y1 = FloatVector.fromArray(S, y, yOffset + c + lanes);
            FloatVector y2 = FloatVector.fromArray(S, y, yOffset + c + 2 * lanes);
            FloatVector y3 = FloatVector.fromArray(S, y, yOffset + c + 3 * lanes);
            for (int s = from; s < to; ) {
                float[] block = blocks.get(s / BLOCK);
                for (int end = Math.min(to, (s / BLOCK + 1) * BLOCK); s < end; s++) {
                    FloatVector a = FloatVector.broadcast(S, p[pOffset + s - from]);
                    int at = (s % BLOCK) * width + offset + c;
                    y0 = FloatVector.fromArray(S, block, at).fma(a, y0);
                    y1 = FloatVector.fromArray(S, block, at + lanes).fma(a, y1);
                    y2 = FloatVector.fromArray(S, block, at + 2 * lanes).fma(a, y2);
                    y3 = FloatVector.fromArray(S, block, at + 3 * lanes).fma(a, y3);
                }
            }
            y0.intoArray(y, yOffset + c);
            y1.intoArray(y, yOffset + c + lanes);
            y2.intoArray(y, yOffset + c + 2 * lanes);
            y3.intoArray(y, yOffset + c + 3 * lanes);
        }
        for (; c < bound; c += lanes) {
            FloatVector acc = FloatVector.fromArray(S, y, yOffset + c);
            for (int s = from; s < to; ) {
                float[] block = blocks.get(s / BLOCK);
                for (int end = Math.min(to, (s / BLOCK + 1) * BLOCK); s < end; s++) {
                    acc = FloatVector.fromArray(S, block, (s % BLOCK) * width + offset + c).fma(FloatVector.broadcast(S, p[pOffset + s - from]), acc);
                }
            }
            acc.intoArray(y, yOffset + c);
        }
        for (int s = from; bound < n && s < to; s++) {
            float[] block = blocks.get(s / BLOCK);
            float a = p[pOffset + s - from];
            for (int i = bound; i < n; i++) {
                y[yOffset + i] += a * block[(s % BLOCK) * width + offset + i];
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
}
