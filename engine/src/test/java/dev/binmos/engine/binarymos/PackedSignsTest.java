package dev.binmos.engine.binarymos;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PackedSignsTest {
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void packUnpackRoundTrip() {
        SplittableRandom random = new SplittableRandom(7);
        for (int[] shape : new int[][] {{1, 1}, {3, 63}, {5, 64}, {7, 65}, {4, 100}, {2, 4095}}) {
            int rows = shape[0];
            int cols = shape[1];
            float[] w = new float[rows * cols];
            float[] expected = new float[w.length];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) random.nextDouble(-1, 1);
                expected[i] = w[i] < 0 ? -1f : 1f;
            }
            PackedSigns signs = PackedSigns.pack(w, rows, cols);
            assertEquals(PackedSigns.byteSize(rows, cols), signs.byteSize());
            assertEquals((cols + 63) / 64, signs.wordsPerRow());
            assertArrayEquals(expected, signs.unpack(), rows + "x" + cols);
            assertArrayEquals(expected, PackedSigns.pack(signs.unpack(), rows, cols).unpack());
        }
    }

    @Test
    void zeroIsPlusOne() {
        PackedSigns signs = PackedSigns.pack(new float[] {0f, -0f, -1e-30f, Float.MIN_VALUE}, 1, 4);
        assertEquals(1, signs.sign(0, 0));
        assertEquals(1, signs.sign(0, 1));
        assertEquals(-1, signs.sign(0, 2));
        assertEquals(1, signs.sign(0, 3));
    }

    /** The documented file layout, bit by bit. */
    @Test
    void layoutIsLittleEndianWordsBitOneMinus() {
        int rows = 2;
        int cols = 130; // 3 words per row, 62 padding columns
        float[] w = new float[rows * cols];
        java.util.Arrays.fill(w, 1f);
        w[0] = -1f;              // row 0, word 0, bit 0
        w[63] = -1f;             // row 0, word 0, bit 63
        w[64] = -1f;             // row 0, word 1, bit 0
        w[cols + 129] = -1f;     // row 1, word 2, bit 1
        PackedSigns signs = PackedSigns.pack(w, rows, cols);
        MemorySegment s = signs.segment();
        assertEquals(0x8000000000000001L, s.get(LE_LONG, 0));
        assertEquals(1L, s.get(LE_LONG, 8));
        assertEquals(0L, s.get(LE_LONG, 16));
        assertEquals(0L, s.get(LE_LONG, 24));
        assertEquals(0L, s.get(LE_LONG, 32));
        assertEquals(2L, s.get(LE_LONG, 40));
        assertEquals(1, s.get(ValueLayout.JAVA_BYTE, 0)); // little-endian: bit 0 is in the first byte
        assertEquals(-1, signs.sign(1, 129));
        assertEquals(1, signs.sign(1, 128));
    }

    @Test
    void viewsAMappedStyleSegment() {
        MemorySegment segment = MemorySegment.ofArray(new byte[16]);
        segment.set(LE_LONG, 8, 1L << 5);
        PackedSigns signs = new PackedSigns(2, 10, segment);
        assertEquals(-1, signs.sign(1, 5));
        assertEquals(1, signs.sign(0, 5));
        assertThrows(IllegalArgumentException.class, () -> new PackedSigns(3, 10, segment));
        assertThrows(IndexOutOfBoundsException.class, () -> signs.sign(0, 10));
    }
}
