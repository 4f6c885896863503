package dev.binmos.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A batch of dots gives each vector exactly what {@code dot} gives it alone (batch-invariant results). */
class DotsTest {

    @ParameterizedTest(name = "n = {0}")
    @ValueSource(ints = {7, 64, 100, 4096})
    void f16DotsEqualDotBitForBit(int n) {
        Random random = new Random(n);
        int rows = 3;
        MemorySegment segment = Arena.ofAuto().allocate((long) rows * n * 2);
        for (long i = 0; i < (long) rows * n; i++) {
            segment.set(ValueLayout.JAVA_SHORT_UNALIGNED, i * 2, Float.floatToFloat16((float) random.nextGaussian()));
        }
        F16Tensor tensor = new F16Tensor(segment, (long) rows * n);
        for (int count = 1; count <= 9; count++) {
            float[] x = new float[count * n];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            float[] y = new float[count * rows];
            for (int row = 0; row < rows; row++) {
                tensor.dots((long) row * n, x, 0, n, count, n, y, row, rows);
            }
            // rows 2 and 0 as a pair, in that order, into a second output
            float[] pairs = new float[count * rows];
            tensor.dots(2L * n, 0, x, 0, n, count, n, pairs, 2, 0, rows);
            for (int row = 0; row < rows; row++) {
                for (int j = 0; j < count; j++) {
                    int alone = Float.floatToRawIntBits(tensor.dot((long) row * n, x, j * n, n));
                    assertEquals(alone, Float.floatToRawIntBits(y[j * rows + row]), "row " + row + ", vector " + j + " of " + count);
                    if (row != 1) {
                        assertEquals(alone, Float.floatToRawIntBits(pairs[j * rows + row]), "pair, row " + row + ", vector " + j + " of " + count);
                    }
                }
            }
        }
    }
}
