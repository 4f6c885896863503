package dev.binmos.engine.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.TestData;
import dev.binmos.engine.backend.Chunk;
import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Every KV policy inside the real forward pass of stories260K (5 layers, 8 heads, 4 kv heads). */
class PodForwardTest {
    private static Llama model;
    /** BOS and the first 47 tokens of the shared TinyStories sample. */
    private static int[] tokens;

    @BeforeAll
    static void load() throws IOException {
        model = ModelLoader.load(TestData.shared("models/stories260K.bin"), null);
        String story = Files.readString(TestData.shared("reference/tinystories_sample.txt")).split("<\\|endoftext\\|>")[0].strip();
        tokens = Arrays.copyOf(model.tokenizer().encode(story, true, false), 48);
        // the Vector API's lane reductions (reduceLanes) sum in another order once JIT-compiled; compile them
        // before comparing logits bit for bit
        for (int i = 0; i < 20; i++) {
            logits(KvPolicy.dense(), tokens);
        }
    }

    private static PodLayout layout(int sinks, int window, PodMode mode, String groups) {
        return new PodLayout(sinks, window, mode, PodGroups.parse(groups, 5, 4));
    }

    private static float[] logits(KvPolicy policy, int[] input) {
        try (CpuBackend backend = new CpuBackend(model, new Parallel(2), policy)) {
            return backend.forwardAll(backend.openSession("t", input.length), input, 0);
        }
    }

    @ParameterizedTest
    @EnumSource(KvPrecision.class)
    void groupSizeOneIsExactlyDense(KvPrecision precision) {
        float[] dense = logits(new KvPolicy.Dense(precision), tokens);
        for (PodMode mode : PodMode.values()) {
            for (String groups : List.of("0,1,2,3,4", "0,1,2,3,4;0,1,2,3,4;0,1,2,3,4;0,1,2,3,4")) {
                float[] pod = logits(new KvPolicy.Pod(layout(2, 4, mode, groups), precision), tokens);
                assertArrayEquals(dense, pod, 0f, mode.label() + " " + groups);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(PodMode.class)
    void borrowingChangesOnlyQueriesThatHaveDistantPositions(PodMode mode) {
        int sinks = 2;
        int window = 8;
        int vocab = model.config().vocabSize();
        float[] dense = logits(KvPolicy.dense(), tokens);
        float[] pod = logits(new KvPolicy.Pod(layout(sinks, window, mode, "0-4"), KvPrecision.F32), tokens);
        // position p has distant positions [sinks, p + 1 − window) once p ≥ sinks + window
        int firstDistant = sinks + window;
        assertArrayEquals(Arrays.copyOf(dense, firstDistant * vocab), Arrays.copyOf(pod, firstDistant * vocab), 0f);
        for (int p = firstDistant; p < tokens.length; p++) {
            assertFalse(Arrays.equals(Arrays.copyOfRange(dense, p * vocab, (p + 1) * vocab), Arrays.copyOfRange(pod, p * vocab, (p + 1) * vocab)),
                    "position " + p + " borrows keys and should differ from dense");
        }
    }

    @Test
    void sharedScoresAndSharedKeysDiffer() {
        float[] keys = logits(new KvPolicy.Pod(layout(2, 8, PodMode.SHARED_KEYS, "0-1,2-4"), KvPrecision.F32), tokens);
        float[] scores = logits(new KvPolicy.Pod(layout(2, 8, PodMode.SHARED_SCORES, "0-1,2-4"), KvPrecision.F32), tokens);
        assertFalse(Arrays.equals(keys, scores));
    }

    @ParameterizedTest
    @EnumSource(KvPrecision.class)
    void budgetsLargerThanTheContextAreExactlyDense(KvPrecision precision) {
        float[] dense = logits(new KvPolicy.Dense(precision), tokens);
        for (KvPolicy policy : List.of(new KvPolicy.Streaming(4, tokens.length, precision), new KvPolicy.H2o(8, tokens.length, false, precision),
                new KvPolicy.H2o(tokens.length, 1, true, precision), new KvPolicy.Pod(layout(0, tokens.length, PodMode.SHARED_KEYS, "0-4"), precision))) {
            assertArrayEquals(dense, logits(policy, tokens), 0f, policy.describe());
        }
    }

    static Stream<KvPolicy> policies() {
        return Stream.of(
                KvPolicy.dense(),
                new KvPolicy.Dense(KvPrecision.F16),
                new KvPolicy.Pod(layout(2, 6, PodMode.SHARED_KEYS, "0-2,3-4;0,1-4;0-4;0,1,2,3-4"), KvPrecision.F32),
                new KvPolicy.Pod(layout(3, 5, PodMode.SHARED_SCORES, "0-1,2-4"), KvPrecision.F32),
                new KvPolicy.Pod(layout(0, 1, PodMode.SHARED_SCORES, "0-4;0,1-4;0-2,3-4;0,1,2,3,4"), KvPrecision.F16),
                new KvPolicy.Pod(layout(4, 17, PodMode.SHARED_KEYS, "0-4"), KvPrecision.F16),
                new KvPolicy.Streaming(2, 6, KvPrecision.F32),
                new KvPolicy.Streaming(0, 17, KvPrecision.F16),
                new KvPolicy.H2o(4, 6, false, KvPrecision.F32),
                new KvPolicy.H2o(3, 5, true, KvPrecision.F32),
                new KvPolicy.H2o(0, 1, true, KvPrecision.F16));
    }

    @ParameterizedTest
    @MethodSource("policies")
    void decodeAfterPrefillEqualsDecodeStepByStep(KvPolicy policy) {
        int vocab = model.config().vocabSize();
        int prompt = 21;
        try (CpuBackend backend = new CpuBackend(model, new Parallel(2), policy)) {
            Session stepped = backend.openSession("stepped", tokens.length);
            float[] expected = new float[tokens.length * vocab];
            for (int t = 0; t < tokens.length; t++) {
                System.arraycopy(backend.forward(stepped, new int[] {tokens[t]}, t), 0, expected, t * vocab, vocab);
            }
            Session prefilled = backend.openSession("prefilled", tokens.length);
            float[] actual = Arrays.copyOf(backend.forwardAll(prefilled, Arrays.copyOf(tokens, prompt), 0), tokens.length * vocab);
            for (int t = prompt; t < tokens.length; t++) {
                System.arraycopy(backend.forward(prefilled, new int[] {tokens[t]}, t), 0, actual, t * vocab, vocab);
            }
            assertArrayEquals(expected, actual, 0f, policy.describe());
            assertEquals(stepped.cache().stats(), prefilled.cache().stats());
        }
    }

    @ParameterizedTest
    @MethodSource("policies")
    void restartingFromZeroReplaysAFreshSession(KvPolicy policy) {
        try (CpuBackend backend = new CpuBackend(model, new Parallel(2), policy)) {
            Session reused = backend.openSession("reused", tokens.length);
            backend.forward(reused, Arrays.copyOfRange(tokens, 10, 40), 0);
            float[] again = backend.forwardAll(reused, tokens, 0);
            assertArrayEquals(backend.forwardAll(backend.openSession("fresh", tokens.length), tokens, 0), again, 0f, policy.describe());
        }
    }

    @Test
    void droppingPoliciesRefuseToRewindAndChangeNothing() {
        for (KvPolicy policy : List.of(new KvPolicy.Pod(layout(2, 4, PodMode.SHARED_KEYS, "0-4"), KvPrecision.F32),
                new KvPolicy.Streaming(2, 4, KvPrecision.F32), new KvPolicy.H2o(2, 4, true, KvPrecision.F32))) {
            try (CpuBackend backend = new CpuBackend(model, new Parallel(2), policy)) {
                Session s = backend.openSession("s", tokens.length);
                backend.forward(s, Arrays.copyOf(tokens, 20), 0);
                long bytes = s.cache().bytes();
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.forward(s, new int[] {5}, 12));
                assertTrue(e.getMessage().contains("cannot rewind to 12"), e.getMessage());
                assertEquals(20, s.length());
                assertEquals(bytes, s.cache().bytes());
                float[] next = backend.forward(s, new int[] {tokens[20]}, 20);
                float[] all = logits(policy, Arrays.copyOf(tokens, 21));
                assertArrayEquals(Arrays.copyOfRange(all, all.length - next.length, all.length), next, 0f, policy.describe());
            }
        }
    }

    @Test
    void aGroupCrossingAStageIsRefusedAndForcedAnchorsSplitIt() {
        KvPolicy.Pod crossing = new KvPolicy.Pod(layout(2, 4, PodMode.SHARED_KEYS, "0-4"), KvPrecision.F32);
        int dim = model.config().dim();
        try (CpuBackend backend = new CpuBackend(model, new Parallel(2), crossing)) {
            float[] hidden = new float[tokens.length * dim];
            backend.embed(tokens, hidden);
            backend.forwardLayers(List.of(new Chunk(backend.openSession("s", tokens.length), 0, tokens.length)), hidden, 0, 2);
            Session second = backend.openSession("s", tokens.length);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> backend.forwardLayers(List.of(new Chunk(second, 0, tokens.length)), hidden, 2, 5));
            assertTrue(e.getMessage().contains("stage"), e.getMessage());
        }
        KvPolicy.Pod split = crossing.withForcedAnchors(2);
        assertEquals("0-1,2-4", split.layout().groups().toString());
        float[] whole = logits(split, tokens);
        try (CpuBackend backend = new CpuBackend(model, new Parallel(2), split)) {
            float[] hidden = new float[tokens.length * dim];
            backend.embed(tokens, hidden);
            backend.forwardLayers(List.of(new Chunk(backend.openSession("s", tokens.length), 0, tokens.length)), hidden, 0, 2);
            backend.forwardLayers(List.of(new Chunk(backend.openSession("s", tokens.length), 0, tokens.length)), hidden, 2, 5);
            assertArrayEquals(whole, backend.logits(hidden, tokens.length, tokens.length), 0f);
        }
        assertFalse(Arrays.equals(whole, logits(crossing, tokens)), "splitting the group changes the attention");
    }
}
