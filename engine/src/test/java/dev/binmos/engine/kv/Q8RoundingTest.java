package dev.binmos.engine.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Q8_0's bytes are GGML's q = round(x / d) with {@link Math#round(float)}'s ties (toward +∞), however the
 * store computes them (the vector path converts, then corrects by the exact fraction). Each group holds
 * ±127, so d = 1 and x / d = x: the ties, the floats beside them and the one just under ½ are each
 * compared with Math.round itself.
 */
class Q8RoundingTest {

    @ParameterizedTest(name = "head size {0}")
    @ValueSource(ints = {128, 32, 8})
    void bytesAreMathRoundOfEveryNumber(int headSize) {
        SplittableRandom random = new SplittableRandom(headSize);
        float[] special = {0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 126.5f, -126.5f, 0.49999997f, -0.49999997f,
                Math.nextUp(0.5f), Math.nextDown(-0.5f), Math.nextDown(2.5f), Math.nextUp(-2.5f), 0f, -0f, 3f, -3f};
        Rows rows = Rows.of(KvPrecision.Q8_0, headSize, headSize);
        int group = KvPrecision.q8Group(headSize);
        float[] x = new float[headSize];
        int next = 0;
        int slots = 40;
        float[][] written = new float[slots][];
        for (int s = 0; s < slots; s++) {
            for (int i = 0; i < headSize; i++) {
                boolean bound = i % group == 0;
                x[i] = bound ? (s % 2 == 0 ? 127f : -127f)
                        : next < special.length * 4 && random.nextBoolean() ? special[next++ % special.length]
                        : (float) (random.nextInt(-253, 254) / 2.0 + (random.nextBoolean() ? 0 : random.nextDouble(-1e-3, 1e-3)));
            }
            rows.put(s, x, 0);
            written[s] = x.clone();
        }
        float[] back = new float[headSize];
        for (int s = 0; s < slots; s++) {
            rows.get(s, back, 0);
            for (int i = 0; i < headSize; i++) {
                assertEquals((float) Math.round(written[s][i]), back[i], 0f, "slot " + s + " number " + i + " = " + written[s][i]);
            }
        }
    }
}
