package dev.binmos.engine.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LlamaTensorsTest {

    @Test
    void rowOrderForTwoHeadsOfFour() {
        assertArrayEquals(new int[] {0, 2, 1, 3, 4, 6, 5, 7}, LlamaTensors.rotateHalfToInterleaved(2, 4));
    }

    /**
     * Hugging Face rotates (i, i + hs/2) of a head, llama2.c rotates (2i, 2i + 1), both by angle pos·θ_i.
     * Reading the rotate-half rows through the row order must turn one rotation into the other.
     */
    @Test
    void rowOrderTurnsRotateHalfRopeIntoInterleavedRope() {
        int heads = 3;
        int hs = 8;
        int pos = 5;
        int[] order = LlamaTensors.rotateHalfToInterleaved(heads, hs);
        double[] q = new Random(1).doubles(heads * hs, -1, 1).toArray(); // a projection's output, rotate-half layout
        double[] rotateHalf = new double[q.length];
        double[] interleaved = new double[q.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < hs / 2; i++) {
                double angle = pos / Math.pow(10000, 2.0 * i / hs);
                double cos = Math.cos(angle);
                double sin = Math.sin(angle);
                int a = h * hs + i;
                int b = a + hs / 2;
                rotateHalf[a] = q[a] * cos - q[b] * sin;
                rotateHalf[b] = q[b] * cos + q[a] * sin;
                int even = h * hs + 2 * i;
                double x = q[order[even]];
                double y = q[order[even + 1]];
                interleaved[even] = x * cos - y * sin;
                interleaved[even + 1] = y * cos + x * sin;
            }
        }
        for (int row = 0; row < q.length; row++) {
            assertEquals(rotateHalf[order[row]], interleaved[row], 1e-12, "row " + row);
        }
    }
}
