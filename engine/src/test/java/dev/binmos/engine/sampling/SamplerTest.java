package dev.binmos.engine.sampling;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    private static final int[] NO_HISTORY = new int[0];
    private static final int VOCAB = 32000;

    private static SamplingParams params(float temperature, int topK, float topP, float minP, float penalty, long seed) {
        return new SamplingParams(temperature, topK, topP, minP, penalty, seed);
    }

    private static float[] randomLogits(long seed) {
        Random random = new Random(seed);
        float[] logits = new float[VOCAB];
        for (int i = 0; i < VOCAB; i++) {
            logits[i] = (float) random.nextGaussian() * 3;
        }
        return logits;
    }

    private static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void greedyIsArgmaxWithLowestIndexOnTies() {
        Sampler sampler = new Sampler(SamplingParams.greedy(), VOCAB);
        for (long seed = 0; seed < 5; seed++) {
            float[] logits = randomLogits(seed);
            assertEquals(argmax(logits), sampler.sample(logits, NO_HISTORY, 0));
        }
        assertEquals(1, new Sampler(SamplingParams.greedy(), 4).sample(new float[] {0, 5, 5, 1}, NO_HISTORY, 0));
    }

    @Test
    void sameSeedSameSequenceDifferentSeedDifferentSequence() {
        float[] logits = new float[50]; // uniform: every draw is pure randomness
        int[] a = draws(new Sampler(params(1, 0, 1, 0, 1, 1234), 50), logits, 200);
        int[] b = draws(new Sampler(params(1, 0, 1, 0, 1, 1234), 50), logits, 200);
        int[] c = draws(new Sampler(params(1, 0, 1, 0, 1, 1235), 50), logits, 200);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
    }

    @Test
    void topKOneIsGreedy() {
        Sampler sampler = new Sampler(params(1.5f, 1, 1, 0, 1, 7), VOCAB);
        for (long seed = 0; seed < 20; seed++) {
            float[] logits = randomLogits(seed);
            assertEquals(argmax(logits), sampler.sample(logits, NO_HISTORY, 0));
        }
    }

    @Test
    void tinyTopPIsGreedy() {
        Sampler sampler = new Sampler(params(1.5f, 0, 1e-6f, 0, 1, 7), VOCAB);
        for (long seed = 0; seed < 20; seed++) {
            float[] logits = randomLogits(seed);
            assertEquals(argmax(logits), sampler.sample(logits, NO_HISTORY, 0));
        }
    }

    @Test
    void topKKeepsOnlyTheKMostLikely() {
        float[] logits = randomLogits(3);
        int[] order = rankDescending(logits);
        Sampler sampler = new Sampler(params(5f, 10, 1, 0, 1, 11), VOCAB); // hot, so all ten do occur
        boolean[] allowed = new boolean[VOCAB];
        for (int i = 0; i < 10; i++) {
            allowed[order[i]] = true;
        }
        boolean[] seen = new boolean[VOCAB];
        for (int i = 0; i < 2000; i++) {
            int token = sampler.sample(logits, NO_HISTORY, 0);
            assertTrue(allowed[token], "token " + token + " is not in the top 10");
            seen[token] = true;
        }
        for (int i = 0; i < 10; i++) {
            assertTrue(seen[order[i]]);
        }
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // probabilities 0.5, 0.25, 0.125, 0.125: p = 0.7 needs the first two
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.25), (float) Math.log(0.125), (float) Math.log(0.125)};
        int[] counts = histogram(new Sampler(params(1, 0, 0.7f, 0, 1, 5), 4), logits, 4000);
        assertEquals(0, counts[2] + counts[3]);
        assertTrue(counts[0] > counts[1] && counts[1] > 1000, Arrays.toString(counts));
    }

    @Test
    void minPDropsTokensFarBelowTheBest() {
        // probabilities proportional to 8, 4, 2, 1: min-p 0.3 keeps tokens with p >= 0.3 * p(8), i.e. 8 and 4
        float[] logits = {(float) Math.log(8), (float) Math.log(4), (float) Math.log(2), 0};
        int[] counts = histogram(new Sampler(params(1, 0, 1, 0.3f, 1, 5), 4), logits, 3000);
        assertEquals(0, counts[2] + counts[3]);
        assertTrue(counts[0] > 1700 && counts[1] > 700, Arrays.toString(counts)); // 2/3 and 1/3 after renormalising
    }

    @Test
    void repetitionPenaltyChangesTheArgmax() {
        float[] positive = {2.0f, 1.9f, 0.5f};
        Sampler sampler = new Sampler(params(0, 0, 1, 0, 1.3f, 0), 3);
        assertEquals(0, sampler.sample(positive, NO_HISTORY, 0));
        assertEquals(1, sampler.sample(positive, new int[] {0, 2}, 2)); // 2.0 / 1.3 < 1.9

        float[] negative = {-1.0f, -1.2f, -5f};
        assertEquals(1, sampler.sample(negative, new int[] {0}, 1)); // -1.0 * 1.3 < -1.2
    }

    @Test
    void repetitionPenaltyAppliesOncePerDistinctTokenAndOnlyWithinHistoryLength() {
        float[] logits = {2.0f, 1.0f};
        Sampler sampler = new Sampler(params(0, 0, 1, 0, 1.5f, 0), 2);
        assertEquals(0, sampler.sample(logits, new int[] {0, 0, 0, 0}, 4)); // 2 / 1.5 > 1, not 2 / 1.5^4
        assertEquals(0, sampler.sample(new float[] {1.0f, 1.1f}, new int[] {1, 0}, 1)); // only token 1: 1.1 / 1.5 < 1.0
    }

    @Test
    void doesNotModifyTheCallersLogits() {
        float[] logits = randomLogits(9);
        float[] copy = logits.clone();
        int[] history = {1, 2, 3, argmax(logits)};
        new Sampler(params(0.8f, 40, 0.9f, 0.05f, 1.2f, 1), VOCAB).sample(logits, history, history.length);
        new Sampler(params(0, 0, 1, 0, 1.2f, 1), VOCAB).sample(logits, history, history.length);
        assertArrayEquals(copy, logits);
    }

    @Test
    void temperatureOneMatchesSoftmax() {
        float[] logits = {1.0f, 0.0f, 2.0f, -1.0f, 0.5f, 1.5f};
        double[] expected = softmax(logits);
        int n = 60_000;
        int[] counts = histogram(new Sampler(params(1, 0, 1, 0, 1, 2024), logits.length), logits, n);
        double chiSquare = 0;
        for (int i = 0; i < logits.length; i++) {
            double e = expected[i] * n;
            chiSquare += (counts[i] - e) * (counts[i] - e) / e;
        }
        // 5 degrees of freedom: P(chi² > 20.5) = 0.001
        assertTrue(chiSquare < 20.5, "chi-square " + chiSquare + " for " + Arrays.toString(counts));
    }

    @Test
    void lowTemperatureSharpensHighTemperatureFlattens() {
        float[] logits = {1.0f, 0.0f};
        int[] cold = histogram(new Sampler(params(0.25f, 0, 1, 0, 1, 3), 2), logits, 4000);
        int[] hot = histogram(new Sampler(params(4f, 0, 1, 0, 1, 3), 2), logits, 4000);
        assertTrue(cold[0] > 3800, Arrays.toString(cold)); // softmax(4, 0): 0.982
        assertTrue(hot[0] > 2100 && hot[0] < 2400, Arrays.toString(hot)); // softmax(0.25, 0): 0.562
    }

    @Test
    void degenerateLogitsFallBackToArgmax() {
        Sampler sampler = new Sampler(params(1, 0, 1, 0, 1, 3), 3);
        assertEquals(2, sampler.sample(new float[] {0, 1, Float.POSITIVE_INFINITY}, NO_HISTORY, 0));
        for (int i = 0; i < 100; i++) {
            assertNotEquals(0, sampler.sample(new float[] {Float.NaN, 0, 0}, NO_HISTORY, 0), "NaN is never drawn");
        }
        assertEquals(0, sampler.sample(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN}, NO_HISTORY, 0));
    }

    @Test
    void onlyTheFirstVocabSizeLogitsCount() {
        Sampler sampler = new Sampler(SamplingParams.greedy(), 3);
        assertEquals(2, sampler.sample(new float[] {0, 1, 2, 99}, NO_HISTORY, 0));
        assertThrows(IllegalArgumentException.class, () -> sampler.sample(new float[] {0, 1}, NO_HISTORY, 0));
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler(SamplingParams.greedy(), 0));
        Sampler sampler = new Sampler(params(0, 0, 1, 0, 1.1f, 0), 3);
        float[] logits = {0, 1, 2};
        assertThrows(IllegalArgumentException.class, () -> sampler.sample(logits, new int[] {1}, 2));
        assertThrows(IllegalArgumentException.class, () -> sampler.sample(logits, new int[] {1}, -1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sampler.sample(logits, new int[] {7}, 1));
        assertTrue(e.getMessage().contains("7"), e.getMessage());
    }

    @Test
    void fullVocabularyTopPDrawsOnlyFromTheNucleus() {
        float[] logits = randomLogits(1);
        double[] p = softmax(logits);
        int[] order = rankDescending(logits);
        boolean[] nucleus = new boolean[VOCAB];
        double cumulative = 0;
        for (int i = 0; cumulative < 0.5; i++) {
            nucleus[order[i]] = true;
            cumulative += p[order[i]];
        }
        Sampler a = new Sampler(params(1, 0, 0.5f, 0, 1, 99), VOCAB);
        Sampler b = new Sampler(params(1, 0, 0.5f, 0, 1, 99), VOCAB);
        for (int i = 0; i < 1000; i++) {
            int token = a.sample(logits, NO_HISTORY, 0);
            assertTrue(nucleus[token], "token " + token + " is outside the nucleus");
            assertEquals(token, b.sample(logits, NO_HISTORY, 0));
        }
    }

    private static int[] draws(Sampler sampler, float[] logits, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = sampler.sample(logits, NO_HISTORY, 0);
        }
        return out;
    }

    private static int[] histogram(Sampler sampler, float[] logits, int n) {
        int[] counts = new int[logits.length];
        for (int i = 0; i < n; i++) {
            counts[sampler.sample(logits, NO_HISTORY, 0)]++;
        }
        return counts;
    }

    private static double[] softmax(float[] logits) {
        double sum = 0;
        double[] p = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp(logits[i]);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    private static int[] rankDescending(float[] logits) {
        return IntStream.range(0, logits.length).boxed()
                .sorted((x, y) -> Float.compare(logits[y], logits[x])).mapToInt(Integer::intValue).toArray();
    }
}
