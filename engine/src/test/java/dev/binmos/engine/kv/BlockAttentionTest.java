package dev.binmos.engine.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.binmos.engine.model.Configuration;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A block of positions attended in one call gives every query the floats that attending it alone gives:
 * a prompt chunk and a decode step agree bit for bit, whatever the storage type.
 */
class BlockAttentionTest {

    /** heads of 128 (Q8_0 widened once per key), of 32, and of 8 (Q8_0 groups narrower than a vector); two query heads per kv head. */
    @ParameterizedTest(name = "{0} head size {1}, positions {2}..{2}+{3}")
    @CsvSource({"Q8_0,128,0,40", "Q8_0,128,37,64", "Q8_0,32,5,17", "Q8_0,8,3,9", "F16,128,21,33", "F32,64,10,20"})
    void aBlockEqualsItsPositionsOneByOne(KvPrecision precision, int headSize, int pos, int count) {
        int heads = 4;
        int kvHeads = 2;
        int dim = heads * headSize;
        int kvDim = kvHeads * headSize;
        Configuration config = new Configuration(dim, 2 * dim, 2, heads, kvHeads, 32, 256, 10000f, 1e-5f);
        DenseKvCache cache = new DenseKvCache(config, pos + count, precision);
        SplittableRandom random = new SplittableRandom(31L * headSize + pos);
        int layer = 1;
        for (int p = 0; p < pos + count; p++) {
            cache.store(layer, p, gaussian(random, kvDim), 0, gaussian(random, kvDim), 0);
        }
        float[] q = gaussian(random, count * dim);
        float[] block = new float[count * dim];
        float[] alone = new float[count * dim];
        float[] scores = new float[pos + count];
        for (int g = 0; g < kvHeads; g++) {
            int group = heads / kvHeads;
            cache.attend(layer, g * group, group, headSize, pos, count, q, g * group * headSize, dim, block, scores);
            for (int t = 0; t < count; t++) {
                for (int h = g * group; h < (g + 1) * group; h++) {
                    int offset = t * dim + h * headSize;
                    cache.attend(layer, h, pos + t, q, offset, alone, offset, scores);
                }
            }
        }
        for (int t = 0; t < count; t++) {
            assertArrayEquals(Arrays.copyOfRange(alone, t * dim, (t + 1) * dim), Arrays.copyOfRange(block, t * dim, (t + 1) * dim), 0f,
                    precision + " position " + (pos + t));
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
