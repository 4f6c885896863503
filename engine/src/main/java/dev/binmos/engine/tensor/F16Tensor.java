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
            sum = Lanes.sum(acc);
        }
        for (; i < n; i++) {
            sum += getFloat(offset + i) * x[xOffset + i];
        }
        return sum;
    }

    /**
     * Two rows at once, eight vectors (then four) at a time: each x load serves both rows, each widened
     * run of halves eight (four) vectors, which halves the loads from x when eight vectors of a wide layer
     * no longer fit in L1. Every accumulator is updated in {@link #dot}'s order, so the sums are the same bit
     * for bit.
     */
    @Override
    public void dots(long offsetA, long offsetB, float[] x, int xOffset, int xStride, int count, int n,
                     float[] y, int yOffsetA, int yOffsetB, int yStride) {
        int j = 0;
        if (n >= S.length()) {
            int bound = S.loopBound(n);
            for (; j + 8 <= count; j += 8) {
                int x0 = xOffset + j * xStride;
                FloatVector a0 = FloatVector.zero(S);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                FloatVector a4 = a0;
                FloatVector a5 = a0;
                FloatVector a6 = a0;
                FloatVector a7 = a0;
                FloatVector b0 = a0;
                FloatVector b1 = a0;
                FloatVector b2 = a0;
                FloatVector b3 = a0;
                FloatVector b4 = a0;
                FloatVector b5 = a0;
                FloatVector b6 = a0;
                FloatVector b7 = a0;
                for (int i = 0; i < bound; i += S.length()) {
                    FloatVector wa = toFloats(ShortVector.fromMemorySegment(H, segment, (offsetA + i) * 2, ByteOrder.LITTLE_ENDIAN));
                    FloatVector wb = toFloats(ShortVector.fromMemorySegment(H, segment, (offsetB + i) * 2, ByteOrder.LITTLE_ENDIAN));
                    int at = x0 + i;
                    FloatVector v = FloatVector.fromArray(S, x, at);
                    a0 = wa.fma(v, a0);
                    b0 = wb.fma(v, b0);
                    v = FloatVector.fromArray(S, x, at + xStride);
                    a1 = wa.fma(v, a1);
                    b1 = wb.fma(v, b1);
                    v = FloatVector.fromArray(S, x, at + 2 * xStride);
                    a2 = wa.fma(v, a2);
                    b2 = wb.fma(v, b2);
                    v = FloatVector.fromArray(S, x, at + 3 * xStride);
                    a3 = wa.fma(v, a3);
                    b3 = wb.fma(v, b3);
                    v = FloatVector.fromArray(S, x, at + 4 * xStride);
                    a4 = wa.fma(v, a4);
                    b4 = wb.fma(v, b4);
                    v = FloatVector.fromArray(S, x, at + 5 * xStride);
                    a5 = wa.fma(v, a5);
                    b5 = wb.fma(v, b5);
                    v = FloatVector.fromArray(S, x, at + 6 * xStride);
                    a6 = wa.fma(v, a6);
                    b6 = wb.fma(v, b6);
                    v = FloatVector.fromArray(S, x, at + 7 * xStride);
                    a7 = wa.fma(v, a7);
                    b7 = wb.fma(v, b7);
                }
                finish(a0, j, offsetA, bound, x, x0, n, y, yOffsetA, yStride);
                finish(a1, j + 1, offsetA, bound, x, x0 + xStride, n, y, yOffsetA, yStride);
                finish(a2, j + 2, offsetA, bound, x, x0 + 2 * xStride, n, y, yOffsetA, yStride);
                finish(a3, j + 3, offsetA, bound, x, x0 + 3 * xStride, n, y, yOffsetA, yStride);
                finish(a4, j + 4, offsetA, bound, x, x0 + 4 * xStride, n, y, yOffsetA, yStride);
                finish(a5, j + 5, offsetA, bound, x, x0 + 5 * xStride, n, y, yOffsetA, yStride);
                finish(a6, j + 6, offsetA, bound, x, x0 + 6 * xStride, n, y, yOffsetA, yStride);
                finish(a7, j + 7, offsetA, bound, x, x0 + 7 * xStride, n, y, yOffsetA, yStride);
                finish(b0, j, offsetB, bound, x, x0, n, y, yOffsetB, yStride);
                finish(b1, j + 1, offsetB, bound, x, x0 + xStride, n, y, yOffsetB, yStride);
                finish(b2, j + 2, offsetB, bound, x, x0 + 2 * xStride, n, y, yOffsetB, yStride);
                finish(b3, j + 3, offsetB, bound, x, x0 + 3 * xStride, n, y, yOffsetB, yStride);
                finish(b4, j + 4, offsetB, bound, x, x0 + 4 * xStride, n, y, yOffsetB, yStride);
                finish(b5, j + 5, offsetB, bound, x, x0 + 5 * xStride, n, y, yOffsetB, yStride);
                finish(b6, j + 6, offsetB, bound, x, x0 + 6 * xStride, n, y, yOffsetB, yStride);
                finish(b7, j + 7, offsetB, bound, x, x0 + 7 * xStride, n, y, yOffsetB, yStride);
            }
            for (; j + 4 <= count; j += 4) {
                int x0 = xOffset + j * xStride;
                FloatVector a0 = FloatVector.zero(S);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                FloatVector b0 = a0;
                FloatVector b1 = a0;
                FloatVector b2 = a0;
                FloatVector b3 = a0;
                for (int i = 0; i < bound; i += S.length()) {
                    FloatVector wa = toFloats(ShortVector.fromMemorySegment(H, segment, (offsetA + i) * 2, ByteOrder.LITTLE_ENDIAN));
                    FloatVector wb = toFloats(ShortVector.fromMemorySegment(H, segment, (offsetB + i) * 2, ByteOrder.LITTLE_ENDIAN));
                    int at = x0 + i;
                    FloatVector v = FloatVector.fromArray(S, x, at);
                    a0 = wa.fma(v, a0);
                    b0 = wb.fma(v, b0);
                    v = FloatVector.fromArray(S, x, at + xStride);
                    a1 = wa.fma(v, a1);
                    b1 = wb.fma(v, b1);
                    v = FloatVector.fromArray(S, x, at + 2 * xStride);
                    a2 = wa.fma(v, a2);
                    b2 = wb.fma(v, b2);
                    v = FloatVector.fromArray(S, x, at + 3 * xStride);
                    a3 = wa.fma(v, a3);
                    b3 = wb.fma(v, b3);
                }
                finish(a0, j, offsetA, bound, x, x0, n, y, yOffsetA, yStride);
                finish(a1, j + 1, offsetA, bound, x, x0 + xStride, n, y, yOffsetA, yStride);
                finish(a2, j + 2, offsetA, bound, x, x0 + 2 * xStride, n, y, yOffsetA, yStride);
                finish(a3, j + 3, offsetA, bound, x, x0 + 3 * xStride, n, y, yOffsetA, yStride);
                finish(b0, j, offsetB, bound, x, x0, n, y, yOffsetB, yStride);
                finish(b1, j + 1, offsetB, bound, x, x0 + xStride, n, y, yOffsetB, yStride);
                finish(b2, j + 2, offsetB, bound, x, x0 + 2 * xStride, n, y, yOffsetB, yStride);
                finish(b3, j + 3, offsetB, bound, x, x0 + 3 * xStride, n, y, yOffsetB, yStride);
            }
        }
        for (; j < count; j++) {
            y[yOffsetA + j * yStride] = dot(offsetA, x, xOffset + j * xStride, n);
            y[yOffsetB + j * yStride] = dot(offsetB, x, xOffset + j * xStride, n);
        }
    }

    /** Stores vector j's dot: its lanes summed, then the scalar end of {@link #dot} from element i. */
    private void finish(FloatVector acc, int j, long offset, int i, float[] x, int xOffset, int n, float[] y, int yOffset, int yStride) {
        float sum = Lanes.sum(acc);
        for (; i < n; i++) {
            sum += getFloat(offset + i) * x[xOffset + i];
        }
        y[yOffset + j * yStride] = sum;
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
        int i = 0;
        // widened in registers: a BinaryMoS linear copies its F16 scales (E · (in + out) halves) every product
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            toFloats(ShortVector.fromMemorySegment(H, segment, (offset + i) * 2, ByteOrder.LITTLE_ENDIAN)).intoArray(dst, dstOffset + i);
        }
        for (; i < n; i++) {
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
