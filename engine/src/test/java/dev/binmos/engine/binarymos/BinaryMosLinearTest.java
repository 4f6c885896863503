package dev.binmos.engine.binarymos;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.binarymos.BinaryMosLinear.Kernel;
import dev.binmos.engine.util.Parallel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kernel, at 1 and 2 threads, against {@link BinaryMosReference}: max|a − b| / max|b| ≤ 1e-4. */
class BinaryMosLinearTest {
    private static final double BOUND = 1e-4;
    private static final float SENTINEL = 12345.5f;
    private static Parallel one;
    private static Parallel two;

    @BeforeAll
    static void startThreads() {
        one = new Parallel(1);
        two = new Parallel(2);
    }

    @AfterAll
    static void stopThreads() {
        one.close();
        two.close();
    }

    /** A random layer; W holds exact zeros (±0) too, which must read as +1. */
    record Layer(float[] w, int out, int in, int experts, float[] router, float[] sIn, float[] sOut, PackedSigns signs) {
        static Layer random(int out, int in, int experts, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            float[] w = new float[Math.multiplyExact(out, in)];
            for (int i = 0; i < w.length; i += 64) {
                long bits = random.nextLong();
                for (int k = 0; k < 64 && i + k < w.length; k++) {
                    float magnitude = k % 13 == 0 ? 0f : 0.5f;
                    w[i + k] = (bits >>> k & 1) != 0 ? -magnitude : magnitude;
                }
            }
            float[] router = gaussian(random, experts * in, 2 / Math.sqrt(in), 0);
            float[] sIn = gaussian(random, experts * in, 0.5, 0.2); // some negative scales
            float[] sOut = gaussian(random, experts * out, 0.5, 0.2);
            return new Layer(w, out, in, experts, router, sIn, sOut, PackedSigns.pack(w, out, in));
        }

        BinaryMosLinear linear(Kernel kernel) {
            return new BinaryMosLinear(signs, router, sIn, sOut, experts, kernel);
        }

        double[] reference(float[] x, int tokens) {
            return BinaryMosReference.apply(w, out, in, router, sIn, sOut, experts, x, tokens);
        }
    }

    static float[] gaussian(SplittableRandom random, int n, double scale, double mean) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (mean + scale * random.nextGaussian());
        }
        return v;
    }

    /** x for tokens rows, followed by NaN garbage that must not matter. */
    static float[] input(int in, int tokens, long seed) {
        float[] x = gaussian(new SplittableRandom(seed), tokens * in + 7, 1, 0);
        for (int i = tokens * in; i < x.length; i++) {
            x[i] = Float.NaN;
        }
        return x;
    }

    /** Runs the linear, checks the bound and that nothing past tokens · out was written; returns y. */
    static float[] check(BinaryMosLinear linear, float[] x, int tokens, double[] expected, Parallel parallel) {
        int n = tokens * linear.outFeatures();
        float[] y = new float[n + 5];
        java.util.Arrays.fill(y, SENTINEL);
        linear.apply(x, y, tokens, parallel);
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < n; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(y[i] - expected[i]));
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
        }
        String what = linear.kernel() + " " + linear.outFeatures() + "x" + linear.inFeatures() + " E=" + linear.experts()
                + " tokens=" + tokens + " threads=" + parallel.threads();
        assertTrue(maxRef > 0, what + ": degenerate reference");
        assertTrue(maxDiff / maxRef <= BOUND, what + ": relative error " + maxDiff / maxRef);
        for (int i = n; i < y.length; i++) {
            assertEquals(SENTINEL, y[i], what + ": wrote past the output");
        }
        return y;
    }

    static void checkAll(Layer layer, int tokens, long seed) {
        float[] x = input(layer.in(), tokens, seed);
        double[] expected = layer.reference(x, tokens);
        for (Kernel kernel : Kernel.values()) {
            BinaryMosLinear linear = layer.linear(kernel);
            check(linear, x, tokens, expected, one);
            check(linear, x, tokens, expected, two);
        }
    }

    static Stream<Arguments> oddShapes() {
        List<Arguments> cases = new ArrayList<>();
        for (int in : new int[] {64, 100, 172, 4095}) {
            for (int out : new int[] {1, 37, 96}) {
                for (int experts : new int[] {1, 4}) {
                    // 45 tokens: a token-lane tile of 32 (LutTokenLanes), then a row-lane tile of 13
                    for (int tokens : new int[] {1, 3, 17, 45}) {
                        cases.add(Arguments.of(out, in, experts, tokens));
                    }
                }
            }
        }
        // enough rows that 2 threads split them, with a partial last row block
        for (int tokens : new int[] {1, 3, 17, 45}) {
            cases.add(Arguments.of(1000, 4095, 4, tokens));
        }
        // more rows than one token-lane sweep takes (2,048), the last sweep ending in a partial row block
        cases.add(Arguments.of(2100, 300, 4, 45));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}x{1} E={2} tokens={3}")
    @MethodSource("oddShapes")
    void oddShapesMatchReference(int out, int in, int experts, int tokens) {
        checkAll(Layer.random(out, in, experts, 31L * out + in), tokens, tokens);
    }

    /** The shapes of a LLaMA-7B MLP: gate/up (11008 × 4096) decode and prefill, down (4096 × 11008). */
    @Test
    void llamaShapesMatchReference() {
        Layer up = Layer.random(11008, 4096, 4, 1);
        for (int tokens : new int[] {1, 3, 17, 33}) {
            checkAll(up, tokens, 100 + tokens);
        }
        Layer down = Layer.random(4096, 11008, 4, 2);
        for (int tokens : new int[] {1, 3, 33}) {
            checkAll(down, tokens, 200 + tokens);
        }
    }

    /** A token's result does not depend on the tile it is batched in: the same token alone gives the same floats. */
    @ParameterizedTest(name = "{0}x{1} tokens={2}")
    // 70 tokens: two threads take a whole tile each, then split the third tile's rows
    @CsvSource({"37,100,3", "37,100,21", "1000,4095,17", "1000,4095,45", "4096,4096,32", "2100,300,32", "2100,300,70"})
    void batchedTokensEqualTheSameTokenAlone(int out, int in, int tokens) {
        Layer layer = Layer.random(out, in, 4, 7L * out + in);
        float[] x = input(in, tokens, tokens);
        for (Kernel kernel : Kernel.values()) {
            BinaryMosLinear linear = layer.linear(kernel);
            float[] batch = new float[out * tokens];
            linear.apply(x, batch, tokens, two);
            // four threads split a tile's rows as well as its column halves
            float[] byFour = new float[out * tokens];
            try (Parallel four = new Parallel(4)) {
                linear.apply(x, byFour, tokens, four);
            }
            assertArrayEquals(batch, byFour, 0f, kernel + " four threads");
            for (int t : new int[] {0, tokens - 1}) {
                float[] alone = new float[out];
                linear.apply(java.util.Arrays.copyOfRange(x, t * in, (t + 1) * in), alone, 1, one);
                assertArrayEquals(java.util.Arrays.copyOfRange(batch, t * out, (t + 1) * out), alone, 0f, kernel + " token " + t);
            }
        }
    }

    /** Padding bits set to 1 (as a sloppy writer might leave them) change nothing. */
    @Test
    void paddingNeverContributes() {
        Layer layer = Layer.random(70, 100, 4, 3);
        float[] x = input(100, 3, 4);
        PackedSigns clean = layer.signs();
        MemorySegment dirty = MemorySegment.ofArray(new byte[(int) clean.byteSize()]);
        MemorySegment.copy(clean.segment(), 0, dirty, 0, clean.byteSize());
        ValueLayout.OfLong le = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (int o = 0; o < 70; o++) {
            long offset = (o * 2L + 1) * Long.BYTES; // second word holds columns 64..127, 100.. are padding
            dirty.set(le, offset, dirty.get(le, offset) | -1L << (100 - 64));
        }
        for (Kernel kernel : Kernel.values()) {
            float[] expected = new float[70 * 3];
            float[] actual = new float[70 * 3];
            layer.linear(kernel).apply(x, expected, 3, one);
            new BinaryMosLinear(new PackedSigns(70, 100, dirty), layer.router(), layer.sIn(), layer.sOut(), 4, kernel)
                    .apply(x, actual, 3, two);
            assertArrayEquals(expected, actual, 0f, kernel.toString());
        }
    }

    @Test
    void accessorsAndWeightBytes() {
        Layer layer = Layer.random(37, 100, 4, 5);
        BinaryMosLinear linear = layer.linear(Kernel.preferred());
        assertEquals(100, linear.inFeatures());
        assertEquals(37, linear.outFeatures());
        assertEquals(4, linear.experts());
        assertSame(layer.router(), linear.router());
        assertSame(layer.sIn(), linear.sIn());
        assertSame(layer.sOut(), linear.sOut());
        assertEquals(37 * 2 * 8 + 4L * (4 * 100 * 2 + 4 * 37), linear.weightBytes());
        assertArrayEquals(PackedSigns.pack(layer.w(), 37, 100).unpack(), linear.signs().unpack());
    }

    @Test
    void rejectsMismatchedShapes() {
        PackedSigns signs = PackedSigns.pack(new float[6], 2, 3);
        assertThrows(IllegalArgumentException.class, () -> new BinaryMosLinear(signs, new float[3], new float[3], new float[3], 1));
        assertThrows(IllegalArgumentException.class, () -> new BinaryMosLinear(signs, new float[6], new float[6], new float[5], 2));
        assertThrows(IllegalArgumentException.class, () -> new BinaryMosLinear(signs, new float[3], new float[3], new float[2], 0));
        BinaryMosLinear linear = new BinaryMosLinear(signs, new float[3], new float[3], new float[2], 1);
        assertThrows(IllegalArgumentException.class, () -> linear.apply(new float[5], new float[4], 2, one));
        assertThrows(IllegalArgumentException.class, () -> linear.apply(new float[6], new float[3], 2, one));
    }
}
