package dev.binmos.engine.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each storage type's attention kernels against plain double arithmetic on the numbers it stores: scores
 * (two slots at a time, and the odd one) and the probability-weighted value sum (whole groups of four
 * vectors, single vectors and the tail past them), over slots that span several blocks.
 */
class RowsKernelsTest {

    @ParameterizedTest(name = "{0} head size {1}, slots {2}..{3}")
    @CsvSource({"F32,8,0,37", "F32,40,3,50", "F32,64,16,33", "F32,128,1,70", "F16,40,3,50", "F16,128,0,37",
            "Q8_0,128,1,70", "Q8_0,32,0,37", "Q8_0,8,3,50"})
    void scoresAndValueSumsMatchDoubleArithmetic(KvPrecision precision, int headSize, int from, int to) {
        Rows rows = Rows.of(precision, headSize, headSize);
        SplittableRandom random = new SplittableRandom(7L * headSize + from);
        for (int s = 0; s < to; s++) {
            rows.put(s, gaussian(random, headSize), 0);
        }
        float[] q = gaussian(random, headSize);
        float scale = 0.125f;
        float[] scores = new float[to - from];
        rows.dots(from, to, 0, q, 0, headSize, scale, scores, 0);
        float[] p = new float[to - from];
        float[] y = new float[headSize];
        double[] expectedY = new double[headSize];
        float[] slot = new float[headSize];
        for (int s = from; s < to; s++) {
            rows.get(s, slot, 0);
            double dot = 0;
            for (int i = 0; i < headSize; i++) {
                dot += (double) q[i] * slot[i];
            }
            assertEquals(dot * scale, scores[s - from], 1e-5 * headSize, precision + " score of slot " + s);
            p[s - from] = (float) random.nextDouble();
            for (int i = 0; i < headSize; i++) {
                expectedY[i] += (double) p[s - from] * slot[i];
            }
        }
        rows.accumulate(p, 0, from, to, 0, y, 0, headSize);
        for (int i = 0; i < headSize; i++) {
            assertEquals(expectedY[i], y[i], 1e-5 * (to - from), precision + " value sum, number " + i);
        }
    }

    private static float[] gaussian(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
