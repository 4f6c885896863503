package dev.binmos.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** F32 values on the heap: for weights computed at load time and for tests. */
public final class ArrayTensor extends FloatTensor {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private final float[] values;

    public ArrayTensor(float[] values) {
        this.values = values;
    }

    public float[] values() {
        return values;
    }

    @Override
    public long size() {
        return values.length;
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public float getFloat(long index) {
        return values[Math.toIntExact(index)];
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        int off = Math.toIntExact(offset);
        int i = 0;
        float sum = 0f;
        if (n >= S.length()) {
            FloatVector acc = FloatVector.zero(S);
            int bound = S.loopBound(n);
            for (; i < bound; i += S.length()) {
                acc = FloatVector.fromArray(S, values, off + i).fma(FloatVector.fromArray(S, x, xOffset + i), acc);
            }
            sum = Lanes.sum(acc);
        }
        for (; i < n; i++) {
            sum += values[off + i] * x[xOffset + i];
        }
        return sum;
    }

    @Override
    public void copyTo(long offset, float[] dst, int dstOffset, int n) {
        System.arraycopy(values, Math.toIntExact(offset), dst, dstOffset, n);
    }
}
