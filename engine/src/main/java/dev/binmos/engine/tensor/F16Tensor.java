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

/** Little-endian IEEE half-precision values in a (usually memory-mapped) segment. */
public final class F16Tensor extends MappedTensor {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Half as wide as S, so one load gives one float per lane after widening. */
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public F16Tensor(MemorySegment segment, long size) {
        super(GgmlType.F16, segment, size);
    }

    @Override
    public float getFloat(long index) {
        return Float.float16ToFloat(segment.get(LE_SHORT, index * 2));
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
                acc = toFloats(halves).fma(FloatVector.fromArray(S, x, xOffset + i), acc);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            sum += getFloat(offset + i) * x[xOffset + i];
        }
        return sum;
    }

    /**
     * Half to float in registers. Placing the 15 exponent-and-mantissa bits at the top of a float's
     * exponent field and scaling by 2^112 (the bias difference 127 − 15) is exact for normal and subnormal
     * halves; infinities and NaNs get the all-ones float exponent instead.
     */
    static FloatVector toFloats(ShortVector halves) {
        IntVector bits = (IntVector) halves.convertShape(VectorOperators.S2I, I, 0); // sign-extended
        IntVector magnitude = bits.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector scaled = magnitude.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        IntVector special = magnitude.or(0x7F800000);
        IntVector result = scaled.blend(special, magnitude.compare(VectorOperators.GE, 0x7C00 << 13));
        return result.or(bits.and(0x80000000)).reinterpretAsFloats();
    }

    @Override
    public void copyTo(long offset, float[] dst, int dstOffset, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = getFloat(offset + i);
        }
    }

    /** Appends n values from src to a little-endian buffer as halves (round to nearest even). */
    static void encode(float[] src, int offset, int n, ByteBuffer dst) {
        for (int i = 0; i < n; i++) {
            dst.putShort(Float.floatToFloat16(src[offset + i]));
        }
    }
}
