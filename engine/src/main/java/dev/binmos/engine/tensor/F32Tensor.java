package dev.binmos.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Little-endian F32 values in a (usually memory-mapped) segment. */
public final class F32Tensor extends MappedTensor {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public F32Tensor(MemorySegment segment, long size) {
        super(GgmlType.F32, segment, size);
    }

    @Override
    public float getFloat(long index) {
        return segment.get(LE_FLOAT, index * 4);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= S.length()) {
            FloatVector acc = FloatVector.zero(S);
            int bound = S.loopBound(n);
            for (; i < bound; i += S.length()) {
                FloatVector w = FloatVector.fromMemorySegment(S, segment, (offset + i) * 4, ByteOrder.LITTLE_ENDIAN);
                acc = w.fma(FloatVector.fromArray(S, x, xOffset + i), acc);
            }
            sum = Lanes.sum(acc);
        }
        for (; i < n; i++) {
            sum += getFloat(offset + i) * x[xOffset + i];
        }
        return sum;
    }

    @Override
    public void copyTo(long offset, float[] dst, int dstOffset, int n) {
        MemorySegment.copy(segment, LE_FLOAT, offset * 4, dst, dstOffset, n);
    }
}
