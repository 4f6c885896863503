package dev.binmos.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * GGML's Q8_0 in a (usually memory-mapped) segment: blocks of 32 values, each block an F16 scale d
 * followed by 32 signed bytes q, value = d · q.
 */
public final class Q8_0Tensor extends MappedTensor {
    private static final int BLOCK = 32;
    private static final int BLOCK_BYTES = 2 + BLOCK;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** A quarter as wide as S (one byte per float lane), but no narrower than the smallest vector. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, S.vectorBitSize() / 4)));
    /** Float vectors per byte vector. */
    private static final int PARTS = B.length() / S.length();
    /** Very wide machines (more than 32 byte lanes) take the scalar path. */
    private static final boolean VECTOR = B.length() <= BLOCK;
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public Q8_0Tensor(MemorySegment segment, long size) {
        super(GgmlType.Q8_0, segment, size);
    }

    @Override
    public float getFloat(long index) {
        long block = (index / BLOCK) * BLOCK_BYTES;
        return scale(block) * segment.get(ValueLayout.JAVA_BYTE, block + 2 + index % BLOCK);
    }

    private float scale(long blockByteOffset) {
        return Float.float16ToFloat(segment.get(LE_SHORT, blockByteOffset));
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        if (offset % BLOCK != 0 || n % BLOCK != 0) {
            throw new IllegalArgumentException("Q8_0 dot needs block-aligned offset and length, got " + offset + " and " + n);
        }
        return VECTOR ? vectorDot(offset, x, xOffset, n) : scalarDot(offset, x, xOffset, n);
    }

    /** Per block: the int8 · x sum in float lanes, then one fma with the block's scale. */
    private float vectorDot(long offset, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(S);
        long block = offset / BLOCK * BLOCK_BYTES;
        for (int j = 0; j < n; j += BLOCK, block += BLOCK_BYTES) {
            FloatVector blockSum = FloatVector.zero(S);
            for (int k = 0; k < BLOCK; k += B.length()) {
                ByteVector q = ByteVector.fromMemorySegment(B, segment, block + 2 + k, ByteOrder.LITTLE_ENDIAN);
                for (int p = 0; p < PARTS; p++) {
                    FloatVector w = (FloatVector) q.convertShape(VectorOperators.B2F, S, p);
                    blockSum = w.fma(FloatVector.fromArray(S, x, xOffset + j + k + p * S.length()), blockSum);
                }
            }
            acc = blockSum.fma(FloatVector.broadcast(S, scale(block)), acc);
        }
        return Lanes.sum(acc);
    }

    private float scalarDot(long offset, float[] x, int xOffset, int n) {
        float sum = 0f;
        long block = offset / BLOCK * BLOCK_BYTES;
        for (int j = 0; j < n; j += BLOCK, block += BLOCK_BYTES) {
            float blockSum = 0f;
            for (int k = 0; k < BLOCK; k++) {
                blockSum += segment.get(ValueLayout.JAVA_BYTE, block + 2 + k) * x[xOffset + j + k];
            }
            sum += scale(block) * blockSum;
        }
        return sum;
    }

    @Override
    public void copyTo(long offset, float[] dst, int dstOffset, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = getFloat(offset + i);
        }
    }

    /**
     * Appends n values (a multiple of 32) from src to a little-endian buffer as Q8_0 blocks: scale
     * max|x| / 127 stored as F16, values rounded half away from zero, as llama.cpp quantises.
     */
    static void encode(float[] src, int offset, int n, ByteBuffer dst) {
        if (n % BLOCK != 0) {
            throw new IllegalArgumentException("Q8_0 needs a multiple of " + BLOCK + " values, got " + n);
        }
        for (int b = offset; b < offset + n; b += BLOCK) {
            float amax = 0f;
            for (int i = 0; i < BLOCK; i++) {
                amax = Math.max(amax, Math.abs(src[b + i]));
            }
            float d = amax / 127f;
            float inverse = d != 0f ? 1f / d : 0f;
            dst.putShort(Float.floatToFloat16(d));
            for (int i = 0; i < BLOCK; i++) {
                float v = src[b + i];
                int q = Math.round(Math.abs(v * inverse));
                dst.put((byte) (v < 0 ? -q : q));
            }
        }
    }
}
