package dev.binmos.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TensorTypesTest {

    /** A tensor of type holding values (quantised as the writers do), in native memory like a mapped file. */
    static FloatTensor tensorOf(GgmlType type, float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate((int) type.byteSize(values.length)).order(ByteOrder.LITTLE_ENDIAN);
        Tensors.encode(type, values, 0, values.length, bytes);
        MemorySegment segment = Arena.ofAuto().allocate(bytes.capacity() + 64).asSlice(3, bytes.capacity()); // unaligned on purpose
        segment.copyFrom(MemorySegment.ofArray(bytes.array()));
        return Tensors.view(type, segment, values.length);
    }

    private static float[] gaussian(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = "I8", mode = EnumSource.Mode.EXCLUDE) // raw bytes, not floats
    void dotMatchesDoublePrecisionDotOfStoredValues(GgmlType type) {
        Random random = new Random(42 + type.id);
        int size = 32 * 41;
        FloatTensor t = tensorOf(type, gaussian(random, size));
        float[] x = gaussian(random, size + 50);
        int block = type.blockSize;
        for (int trial = 0; trial < 400; trial++) {
            int n = block == 1 ? 1 + random.nextInt(300) : block * (1 + random.nextInt(12));
            long offset = block * (long) random.nextInt((size - n) / block + 1);
            int xOffset = random.nextInt(50);
            double expected = 0;
            double magnitude = 0;
            for (int i = 0; i < n; i++) {
                expected += (double) t.getFloat(offset + i) * x[xOffset + i];
                magnitude += Math.abs((double) t.getFloat(offset + i) * x[xOffset + i]);
            }
            float actual = t.dot(offset, x, xOffset, n);
            assertTrue(Math.abs(actual - expected) <= 1e-5 * magnitude,
                    type + " n=" + n + " offset=" + offset + ": " + actual + " vs " + expected);
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = "I8", mode = EnumSource.Mode.EXCLUDE) // raw bytes, not floats
    void copyToAndToFloatArrayAgreeWithGetFloat(GgmlType type) {
        float[] values = gaussian(new Random(7), 96);
        FloatTensor t = tensorOf(type, values);
        float[] all = t.toFloatArray();
        float[] part = new float[40];
        t.copyTo(32, part, 3, 37);
        for (int i = 0; i < values.length; i++) {
            assertEquals(t.getFloat(i), all[i]);
            assertEquals(values[i], all[i], type == GgmlType.F32 ? 0 : 0.05 * Math.max(1, Math.abs(values[i])));
        }
        for (int i = 0; i < 37; i++) {
            assertEquals(t.getFloat(32 + i), part[3 + i]);
        }
        assertEquals(type, t.type());
        assertEquals(96, t.size());
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16"})
    void vectorConversionIsExactForEveryFiniteBitPattern(GgmlType type) {
        int lanes = 64;
        MemorySegment segment = Arena.ofAuto().allocate(65536 * 2);
        for (int bits = 0; bits < 65536; bits++) {
            segment.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), bits * 2L, (short) bits);
        }
        FloatTensor t = Tensors.view(type, segment, 65536);
        float[] oneHot = new float[lanes];
        for (int start = 0; start < 65536; start += lanes) {
            boolean finite = true;
            for (int i = 0; i < lanes; i++) {
                finite &= Float.isFinite(t.getFloat(start + i));
            }
            if (!finite) {
                continue;
            }
            for (int i = 0; i < lanes; i++) {
                oneHot[i] = 1;
                float expected = type == GgmlType.F16
                        ? Float.float16ToFloat((short) (start + i))
                        : Float.intBitsToFloat((start + i) << 16);
                assertEquals(expected, t.getFloat(start + i));
                assertEquals(expected + 0f, t.dot(start, oneHot, 0, lanes), "bits " + Integer.toHexString(start + i)); // a sum is never -0
                oneHot[i] = 0;
            }
        }
    }

    /**
     * copyTo widens whole vectors at a time: every half as getFloat gives it, signed zeros, subnormals and
     * infinities bit for bit (NaNs as NaN: whether a signalling NaN comes back quiet depends on the CPU).
     */
    @Test
    void f16CopyToIsGetFloatForEveryBitPattern() {
        MemorySegment segment = Arena.ofAuto().allocate(65536 * 2);
        for (int bits = 0; bits < 65536; bits++) {
            segment.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), bits * 2L, (short) bits);
        }
        FloatTensor t = Tensors.view(GgmlType.F16, segment, 65536);
        float[] all = new float[65536 + 3];
        t.copyTo(0, all, 3, 65536);
        for (int bits = 0; bits < 65536; bits++) {
            float expected = Float.float16ToFloat((short) bits);
            if (Float.isNaN(expected)) {
                assertTrue(Float.isNaN(all[3 + bits]), "bits " + Integer.toHexString(bits));
            } else {
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(all[3 + bits]), "bits " + Integer.toHexString(bits));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16"})
    void vectorConversionKeepsInfinitiesAndNaN(GgmlType type) {
        float[] ones = new float[64];
        Arrays.fill(ones, 1f);
        float[] inf = new float[64];
        Arrays.fill(inf, Float.NEGATIVE_INFINITY);
        assertEquals(Float.NEGATIVE_INFINITY, tensorOf(type, inf).dot(0, ones, 0, 64));
        float[] nan = new float[64];
        nan[17] = Float.NaN;
        assertTrue(Float.isNaN(tensorOf(type, nan).dot(0, ones, 0, 64)));
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3F80, BF16Tensor.fromFloat(1f));
        assertEquals((short) 0x3F80, BF16Tensor.fromFloat(1f + 0x1p-8f), "tie goes to the even mantissa");
        assertEquals((short) 0x3F82, BF16Tensor.fromFloat(1f + 3 * 0x1p-8f), "tie goes to the even mantissa");
        assertEquals((short) 0x3F81, BF16Tensor.fromFloat(1f + 0x1p-8f + 0x1p-20f), "above the tie rounds up");
        assertEquals((short) 0x7F80, BF16Tensor.fromFloat(Float.MAX_VALUE), "overflow rounds to infinity");
        assertTrue(Float.isNaN(Float.intBitsToFloat(BF16Tensor.fromFloat(Float.NaN) << 16)));
    }

    @Test
    void q8_0QuantisesLikeGgml() {
        float[] values = new float[64];
        for (int i = 0; i < 32; i++) {
            values[i] = i - 16; // amax 16: d = 16/127
        }
        FloatTensor t = tensorOf(GgmlType.Q8_0, values);
        float d = Float.float16ToFloat(Float.floatToFloat16(16f / 127));
        for (int i = 0; i < 32; i++) {
            float scaled = (i - 16) * 127 / 16f;
            assertEquals(d * Math.signum(scaled) * Math.round(Math.abs(scaled)), t.getFloat(i), 1e-7, "rounds half away from zero");
        }
        for (int i = 32; i < 64; i++) {
            assertEquals(0f, t.getFloat(i), "an all-zero block has scale 0");
        }
        assertEquals(-16f, t.getFloat(0), 16f / 127 / 2 + 0.01);
        assertThrows(IllegalArgumentException.class, () -> t.dot(16, new float[64], 0, 32), "blocks only");
        assertThrows(IllegalArgumentException.class, () -> tensorOf(GgmlType.Q8_0, new float[33]));
    }
}
