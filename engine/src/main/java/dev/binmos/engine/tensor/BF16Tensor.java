package dev.binmos.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Little-endian bfloat16 values (the top half of an F32) in a (usually memory-mapped) segment. */
public final class BF16Tensor extends MappedTensor {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Half as wide as S, so one load gives one float per lane after widening. */
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public BF16Tensor(MemorySegment segment, long size) {
        super(GgmlType.BF16, segment, size);
    }

    @Override
    public float getFloat(long index) {
        return Float.intBitsToFloat(segment.get(LE_SHORT, index * 2) << 16);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= S.length()) {
            FloatVector acc = FloatVector.zero(S);
            int bound = S.loopBound(n);
            for (; i < bound; i += S.length()) {
                ShortVector halves = ShortVector.fromMemorySegment(H, segment, (offset + i) * 2, ByteOrder.LITTLE_ENDIAN);
                // Widening sign-extends, and the shift drops the extension again: the exact F32 bits.
                IntVector bits = ((IntVector) halves.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16);
                acc = bits.reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xOffset + i), acc);
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
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = getFloat(offset + i);
        }
    }

    /** F32 to bfloat16 bits, rounding to nearest even; NaN stays a (quiet) NaN. */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** Appends n values from src to a little-endian buffer as bfloat16s. */
    static void encode(float[] src, int offset, int n, ByteBuffer dst) {
        for (int i = 0; i < n; i++) {
            dst.putShort(fromFloat(src[offset + i]));
        }
    }
}
