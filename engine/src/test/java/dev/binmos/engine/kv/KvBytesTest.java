package dev.binmos.engine.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.model.Configuration;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;

/** Bytes held between steps, against closed forms written here from the policies' definitions. */
class KvBytesTest {
    private static final int B = 16;
    /** 6 layers, 4 query heads on 2 kv heads of 8: kvDim 16. */
    private static final Configuration C = new Configuration(32, 64, 6, 4, 2, 16, 1024, 10000f, 1e-5f);
    private static final int HS = 8;
    private static final int[] LENGTHS = {1, 3, 16, 17, 40, 41, 100, 257};

    /** Positions rounded up to whole blocks of 16. */
    private static long blocks(long positions) {
        return (positions + B - 1) / B * B;
    }

    /** Keys a borrowing kv head holds after T positions: sinks, then the last window − 1 positions. */
    private static long proximal(int t, int sinks, int window) {
        return blocks(Math.min(t, sinks)) + (t > sinks ? blocks(Math.min(t - sinks, window - 1)) : 0);
    }

    /**
     * Grows the cache to each length of {@link #LENGTHS} in turn, a prefill of 37 positions (fewer for the first
     * lengths) and single steps after, and checks it between steps.
     */
    private static void grow(KvCache cache, IntConsumer check) {
        CacheDriver.Vectors q = CacheDriver.random(1, C.dim());
        CacheDriver.Vectors k = CacheDriver.random(2, C.kvDim());
        CacheDriver.Vectors v = CacheDriver.random(3, C.kvDim());
        int length = 0;
        for (int t : LENGTHS) {
            while (length < t) {
                int count = length == 0 ? Math.min(t, 37) : 1;
                CacheDriver.step(cache, C, length, count, q, k, v);
                length += count;
                if (length == t || Arrays.binarySearch(LENGTHS, length) >= 0) {
                    check.accept(length);
                }
            }
        }
    }

    /** Bytes of n stored numbers; Q8_0 has one F32 scale per head here (heads of 8 < 32 numbers). */
    private static long bytes(long n, KvPrecision p) {
        return switch (p) {
            case F32 -> 4 * n;
            case F16 -> 2 * n;
            case Q8_0 -> n + 4 * (n / HS);
        };
    }

    private static long dense(int t, KvPrecision p) {
        return bytes((long) C.layers() * 2 * blocks(t) * C.kvDim(), p);
    }

    @Test
    void denseHoldsEveryPosition() {
        for (KvPrecision p : KvPrecision.values()) {
            KvCache cache = new DenseKvCache(C, 1024, p);
            grow(cache, t -> {
                assertEquals(dense(t, p), cache.bytes(), p + " T=" + t);
                assertEquals(cache.bytes(), cache.denseBytes());
            });
        }
    }

    @Test
    void podHoldsAllValuesAnchorKeysAndBorrowersProximalKeys() {
        record Case(int sinks, int window, String groups) {
        }
        for (Case k : List.of(new Case(4, 16, "0-2,3-5"), new Case(16, 64, "0,1-5"), new Case(3, 20, "0-5;0,1,2-3,4-5"),
                new Case(0, 1, "0-1,2,3-5;0-5"), new Case(5, 33, "0,1,2,3,4,5"))) {
            PodGroups groups = PodGroups.parse(k.groups(), C.layers(), C.kvHeads());
            for (KvPrecision p : KvPrecision.values()) {
                for (PodMode mode : PodMode.values()) {
                    KvCache cache = new PodKvCache(C, 1024, new PodLayout(k.sinks(), k.window(), mode, groups), p);
                    grow(cache, t -> {
                        long expected = 0;
                        for (int l = 0; l < C.layers(); l++) {
                            long layer = 0;
                            for (int g = 0; g < C.kvHeads(); g++) {
                                boolean anchor = groups.anchor(l, g) == l;
                                layer += bytes((blocks(t) + (anchor ? blocks(t) : proximal(t, k.sinks(), k.window()))) * HS, p);
                            }
                            assertEquals(layer, cache.bytes(l), k + " " + p + " T=" + t + " layer " + l);
                            expected += layer;
                        }
                        assertEquals(expected, cache.bytes(), k + " " + p + " T=" + t);
                        assertEquals(dense(t, p), cache.denseBytes());
                    });
                }
            }
        }
    }

    @Test
    void podSavingApproachesTheBackgroundFormula() {
        // f · (T − S − W) / (2T) with whole blocks: S = 16, W = 49 (48 kept), f = 5/6, T = 1024
        PodLayout layout = new PodLayout(16, 49, PodMode.SHARED_KEYS, PodGroups.parse("0-5", C.layers(), C.kvHeads()));
        KvCache cache = new PodKvCache(C, 1024, layout, KvPrecision.F32);
        CacheDriver.step(cache, C, 0, 1024, CacheDriver.random(1, C.dim()), CacheDriver.random(2, C.kvDim()), CacheDriver.random(3, C.kvDim()));
        KvStats stats = cache.stats();
        assertEquals(5.0 / 6 * (1024 - 16 - 48) / (2 * 1024), stats.saving(), 1e-12);
    }

    @Test
    void streamingHoldsSinksAndWindow() {
        for (int[] sw : new int[][] {{4, 16}, {0, 1}, {16, 50}, {3, 64}}) {
            KvCache cache = new StreamingKvCache(C, 1024, sw[0], sw[1], KvPrecision.F16);
            grow(cache, t -> assertEquals((long) C.layers() * C.kvHeads() * 2 * proximal(t, sw[0], sw[1]) * HS * 2, cache.bytes(),
                    "S=" + sw[0] + " W=" + sw[1] + " T=" + t));
        }
    }

    @Test
    void h2oHoldsHeavyHittersAndWindow() {
        for (int[] hw : new int[][] {{4, 16}, {0, 1}, {20, 13}, {64, 64}}) {
            KvCache cache = new H2oKvCache(C, 1024, hw[0], hw[1], false, KvPrecision.F32);
            grow(cache, t -> assertEquals((long) C.layers() * C.kvHeads() * 2 * blocks(Math.min(t, hw[0] + hw[1] - 1)) * HS * 4, cache.bytes(),
                    "H=" + hw[0] + " W=" + hw[1] + " T=" + t));
        }
    }

    @Test
    void h2oPerHeadHoldsWhatAnyOfItsQueryHeadsKeeps() {
        int heavy = 6;
        int window = 9;
        KvCache cache = new H2oKvCache(C, 1024, heavy, window, true, KvPrecision.F32);
        grow(cache, t -> {
            long bytes = cache.bytes();
            long perKvHead = (long) C.layers() * C.kvHeads() * 2 * HS * 4;
            // at least one head's budget; at most the shared window plus every head's heavy hitters
            assertTrue(bytes >= perKvHead * blocks(Math.min(t, heavy + window - 1)), "T=" + t);
            assertTrue(bytes <= perKvHead * blocks(Math.min(t, window - 1 + C.groupSize() * heavy)), "T=" + t);
        });
    }

    @Test
    void h2oPerHeadIsPerKvHeadWhenHeadsDoNotShare() {
        Configuration mha = new Configuration(32, 64, 3, 4, 4, 16, 1024, 10000f, 1e-5f);
        CacheDriver.Vectors q = CacheDriver.random(4, mha.dim());
        CacheDriver.Vectors k = CacheDriver.random(5, mha.kvDim());
        CacheDriver.Vectors v = CacheDriver.random(6, mha.kvDim());
        KvCache perHead = new H2oKvCache(mha, 1024, 5, 7, true, KvPrecision.F32);
        KvCache perKvHead = new H2oKvCache(mha, 1024, 5, 7, false, KvPrecision.F32);
        for (int[] step : new int[][] {{0, 30}, {30, 1}, {31, 1}, {32, 20}}) {
            float[][] a = CacheDriver.step(perHead, mha, step[0], step[1], q, k, v);
            float[][] b = CacheDriver.step(perKvHead, mha, step[0], step[1], q, k, v);
            for (int l = 0; l < mha.layers(); l++) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(b[l], a[l], 0f);
            }
            assertEquals(perKvHead.bytes(), perHead.bytes());
        }
    }

    @Test
    void footprintIsWhatTheCacheHoldsOverAnyLayerRange() {
        PodGroups groups = PodGroups.parse("0-2,3-5;0,1,2-3,4-5", C.layers(), C.kvHeads());
        List<KvPolicy> policies = List.of(new KvPolicy.Dense(KvPrecision.F32), new KvPolicy.Dense(KvPrecision.F16),
                new KvPolicy.Pod(new PodLayout(4, 16, PodMode.SHARED_KEYS, groups), KvPrecision.F32),
                new KvPolicy.Pod(new PodLayout(20, 33, PodMode.SHARED_SCORES, groups), KvPrecision.F16),
                new KvPolicy.Streaming(3, 64, KvPrecision.F32), new KvPolicy.H2o(20, 13, false, KvPrecision.F32));
        int[][] ranges = {{0, 6}, {0, 3}, {3, 6}, {2, 4}};
        for (KvPolicy policy : policies) {
            KvCache cache = policy.open(C, 1024);
            grow(cache, t -> {
                for (int[] r : ranges) {
                    long held = 0;
                    for (int l = r[0]; l < r[1]; l++) {
                        held += cache.bytes(l);
                    }
                    assertEquals(held, policy.footprint(C, r[0], r[1]).bytes(t), policy.describe() + " layers " + Arrays.toString(r) + " T=" + t);
                }
            });
        }
    }

    @Test
    void h2oPerHeadFootprintBoundsWhatItHolds() {
        KvPolicy policy = new KvPolicy.H2o(6, 9, true, KvPrecision.F32);
        KvCache cache = policy.open(C, 1024);
        grow(cache, t -> assertTrue(cache.bytes() <= policy.footprint(C, 0, C.layers()).bytes(t), "T=" + t));
    }
}
