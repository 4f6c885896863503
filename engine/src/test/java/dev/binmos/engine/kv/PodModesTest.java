package dev.binmos.engine.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.model.Configuration;
import org.junit.jupiter.api.Test;

/**
 * Two layers in one group on constructed keys, values and queries: the borrowing layer's output against a
 * reference written from the definition of each mode.
 */
class PodModesTest {
    /** 2 layers, 2 query heads on 1 kv head of size 4. */
    private static final Configuration C = new Configuration(8, 8, 2, 2, 1, 4, 64, 10000f, 1e-5f);
    private static final int HS = 4;
    private static final int T = 12;
    private static final int SINKS = 2;
    private static final int WINDOW = 3;

    private static float[][] run(KvCache cache, CacheDriver.Vectors q, CacheDriver.Vectors k, CacheDriver.Vectors v) {
        return CacheDriver.step(cache, C, 0, T, q, k, v);
    }

    private static PodKvCache pod(PodMode mode) {
        return new PodKvCache(C, T, new PodLayout(SINKS, WINDOW, mode, PodGroups.parse("0-1", 2, 1)), KvPrecision.F32);
    }

    /** Layer 1's output from the definition: one softmax over own proximal logits and borrowed distant ones. */
    private static float[] reference(PodMode mode, CacheDriver.Vectors q, CacheDriver.Vectors k, CacheDriver.Vectors v) {
        float[] out = new float[T * C.dim()];
        double scale = 1 / Math.sqrt(HS);
        for (int p = 0; p < T; p++) {
            for (int h = 0; h < C.heads(); h++) {
                double[] logits = new double[p + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= p; j++) {
                    boolean distant = j >= SINKS && j < p + 1 - WINDOW;
                    float[] query = distant && mode == PodMode.SHARED_SCORES ? q.of(0, p) : q.of(1, p);
                    float[] key = distant ? k.of(0, j) : k.of(1, j);
                    for (int i = 0; i < HS; i++) {
                        logits[j] += query[h * HS + i] * key[i];
                    }
                    logits[j] *= scale;
                    max = Math.max(max, logits[j]);
                }
                double sum = 0;
                for (int j = 0; j <= p; j++) {
                    sum += Math.exp(logits[j] - max);
                }
                for (int j = 0; j <= p; j++) {
                    for (int i = 0; i < HS; i++) {
                        out[p * C.dim() + h * HS + i] += (float) (Math.exp(logits[j] - max) / sum * v.of(1, j)[i]);
                    }
                }
            }
        }
        return out;
    }

    private static CacheDriver.Vectors sameInEveryLayer(CacheDriver.Vectors vectors) {
        return (layer, pos) -> vectors.of(0, pos);
    }

    @Test
    void eachModeFollowsItsDefinitionAndTheyDiffer() {
        CacheDriver.Vectors q = CacheDriver.random(11, C.dim());
        CacheDriver.Vectors k = CacheDriver.random(12, C.kvDim());
        CacheDriver.Vectors v = CacheDriver.random(13, C.kvDim());
        float[] keys = run(pod(PodMode.SHARED_KEYS), q, k, v)[1];
        float[] scores = run(pod(PodMode.SHARED_SCORES), q, k, v)[1];
        assertArrayEquals(reference(PodMode.SHARED_KEYS, q, k, v), keys, 1e-5f);
        assertArrayEquals(reference(PodMode.SHARED_SCORES, q, k, v), scores, 1e-5f);
        float[] dense = run(new DenseKvCache(C, T), q, k, v)[1];
        int firstDistant = (SINKS + WINDOW) * C.dim();
        for (int i = 0; i < firstDistant; i++) {
            assertEquals(dense[i], keys[i], "no distant positions yet: dense");
            assertEquals(dense[i], scores[i], "no distant positions yet: dense");
        }
        double difference = 0;
        for (int i = firstDistant; i < keys.length; i++) {
            difference = Math.max(difference, Math.abs(keys[i] - scores[i]));
        }
        assertTrue(difference > 1e-2, "the modes must differ once positions are distant, max difference " + difference);
    }

    @Test
    void withEqualKeysSharedKeysIsDenseAndWithEqualQueriesToo() {
        CacheDriver.Vectors q = CacheDriver.random(21, C.dim());
        CacheDriver.Vectors k = sameInEveryLayer(CacheDriver.random(22, C.kvDim()));
        CacheDriver.Vectors v = CacheDriver.random(23, C.kvDim());
        float[] dense = run(new DenseKvCache(C, T), q, k, v)[1];
        assertArrayEquals(dense, run(pod(PodMode.SHARED_KEYS), q, k, v)[1], 0f, "equal keys: borrowing them changes nothing");

        CacheDriver.Vectors sameQ = sameInEveryLayer(q);
        float[] denseSameQ = run(new DenseKvCache(C, T), sameQ, k, v)[1];
        assertArrayEquals(denseSameQ, run(pod(PodMode.SHARED_KEYS), sameQ, k, v)[1], 0f);
        assertArrayEquals(denseSameQ, run(pod(PodMode.SHARED_SCORES), sameQ, k, v)[1], 0f, "equal keys and queries: the modes coincide");
    }

    @Test
    void scoresHoldTheProbabilitiesOfEveryPosition() {
        CacheDriver.Vectors q = CacheDriver.random(31, C.dim());
        CacheDriver.Vectors k = CacheDriver.random(32, C.kvDim());
        CacheDriver.Vectors v = CacheDriver.random(33, C.kvDim());
        for (KvCache cache : new KvCache[] {pod(PodMode.SHARED_SCORES), new StreamingKvCache(C, T, SINKS, WINDOW, KvPrecision.F32),
                new H2oKvCache(C, T, 2, WINDOW, true, KvPrecision.F32)}) {
            CacheDriver.step(cache, C, 0, T - 1, q, k, v);
            int last = T - 1;
            float[] scores = new float[T];
            float[] out = new float[C.dim()];
            cache.begin(last, 1);
            for (int l = 0; l < 2; l++) {
                cache.store(l, last, k.of(l, last), 0, v.of(l, last), 0);
                cache.attend(l, 0, last, q.of(l, last), 0, out, 0, scores);
            }
            double sum = 0;
            int kept = 0;
            for (float s : scores) {
                sum += s;
                kept += s > 0 ? 1 : 0;
            }
            assertEquals(1, sum, 1e-6, cache.getClass().getSimpleName());
            for (int t = last + 1 - WINDOW; t <= last; t++) {
                assertTrue(scores[t] > 0, cache.getClass().getSimpleName() + " keeps its recent window, position " + t);
            }
            int expected = cache instanceof PodKvCache ? T : cache instanceof StreamingKvCache ? SINKS + WINDOW : 2 + WINDOW;
            assertEquals(expected, kept, cache.getClass().getSimpleName());
        }
    }

    @Test
    void h2oWithoutHeavyHittersIsAStreamingWindowWithoutSinks() {
        CacheDriver.Vectors q = CacheDriver.random(41, C.dim());
        CacheDriver.Vectors k = CacheDriver.random(42, C.kvDim());
        CacheDriver.Vectors v = CacheDriver.random(43, C.kvDim());
        for (boolean perHead : new boolean[] {false, true}) {
            float[][] h2o = run(new H2oKvCache(C, T, 0, WINDOW, perHead, KvPrecision.F32), q, k, v);
            float[][] streaming = run(new StreamingKvCache(C, T, 0, WINDOW, KvPrecision.F32), q, k, v);
            for (int l = 0; l < 2; l++) {
                assertArrayEquals(streaming[l], h2o[l], 0f, "per head " + perHead + ", layer " + l);
            }
        }
    }
}
