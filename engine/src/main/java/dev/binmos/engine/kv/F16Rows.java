package dev.binmos.engine.kv;

import dev.binmos.engine.tensor.Lanes;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** {@link Rows} of IEEE half-precision numbers, widened to float in registers by the kernels. */
final class F16Rows extends Rows {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** As many shorts as F has floats. */
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));

    private final List<short[]> blocks = new ArrayList<>();

    F16Rows(int width, int headSize) {
        super(width, headSize);
    }

    @Override
    KvPrecision precision() {
        return KvPrecision.F16;
    }

    @Override
    void put(int slot, float[] src, int offset) {
        while (blocks.size() <= slot / BLOCK) {
            blocks.add(new short[BLOCK * width]);
        }
        short[] block = blocks.get(slot / BLOCK);
        int at = (slot % BLOCK) * width;
        for (int i = 0; i < width; i++) {
            block[at + i] = Float.floatToFloat16(src[offset + i]);
        }
    }

    @Override
    void get(int slot, float[] dst, int offset) {
        short[] block = blocks.get(slot / BLOCK);
        int at = (slot % BLOCK) * width;
        for (int i = 0; i < width; i++) {
            dst[offset + i] = Float.float16ToFloat(block[at + i]);
        }
    }

    @Override
    void dots(int from, int to, int offset, float[] q, int qOffset, int n, float scale, float[] out, int outOffset) {
        for (int s = from; s < to; ) {
            short[] block = blocks.get(s / BLOCK);
            for (int end = Math.min(to, (s / BLOCK + 1) * BLOCK); s < end; s++) {
                out[outOffset + s - from] = dot(q, qOffset, block, (s % BLOCK) * width + offset, n) * scale;
            }
        }
    }

    @Override
    void accumulate(float[] p, int pOffset, int from, int to, int offset, float[] y, int yOffset, int n) {
        for (int s = from; s < to; ) {
            short[] block = blocks.get(s / BLOCK);
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

    private static float dot(float[] q, int qOffset, short[] k, int kOffset, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= F.length()) {
            FloatVector acc = FloatVector.zero(F);
            for (int bound = F.loopBound(n); i < bound; i += F.length()) {
                acc = widen(k, kOffset + i).fma(FloatVector.fromArray(F, q, qOffset + i), acc);
            }
            sum = Lanes.sum(acc);
        }
        for (; i < n; i++) {
            sum += q[qOffset + i] * Float.float16ToFloat(k[kOffset + i]);
        }
        return sum;
    }

    /** y += a · x */
    private static void axpy(float a, short[] x, int xOffset, float[] y, int yOffset, int n) {
        int i = 0;
        if (n >= F.length()) {
            FloatVector va = FloatVector.broadcast(F, a);
            for (int bound = F.loopBound(n); i < bound; i += F.length()) {
                widen(x, xOffset + i).fma(va, FloatVector.fromArray(F, y, yOffset + i)).intoArray(y, yOffset + i);
            }
        }
        for (; i < n; i++) {
            y[yOffset + i] += a * Float.float16ToFloat(x[xOffset + i]);
        }
    }

    /**
     * F.length() halves as floats. A half's 15 exponent-and-mantissa bits shifted left by 13 sit where a
     * float's would, with the exponent 112 (= 127 − 15, the bias difference) too small: multiplying by
     * 2^112 fixes that exactly for normal and subnormal halves. Infinity and NaN keep an all-ones exponent.
     */
    private static FloatVector widen(short[] halves, int offset) {
        IntVector bits = (IntVector) ShortVector.fromArray(H, halves, offset).convertShape(VectorOperators.S2I, I, 0);
        IntVector magnitude = bits.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector finite = magnitude.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        IntVector value = finite.blend(magnitude.or(0x7F800000), magnitude.compare(VectorOperators.GE, 0x7C00 << 13));
        return value.or(bits.and(0x80000000)).reinterpretAsFloats();
    }
}
