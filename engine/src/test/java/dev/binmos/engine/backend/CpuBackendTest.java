package dev.binmos.engine.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.TestData;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.binarymos.Binarizer;
import dev.binmos.engine.linear.DenseLinear;
import dev.binmos.engine.linear.Linear;
import dev.binmos.engine.model.LayerWeights;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.model.Weights;
import dev.binmos.engine.util.Parallel;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CpuBackendTest {
    private static Llama model;
    private static CpuBackend backend;
    private static final int[] TOKENS = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376};

    @BeforeAll
    static void load() {
        model = ModelLoader.load(TestData.shared("models/stories260K.bin"), null);
        backend = new CpuBackend(model, new Parallel(2));
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    @Test
    void prefillEqualsStepByStep() {
        Session batched = backend.openSession("batched", 16);
        float[] all = backend.forwardAll(batched, TOKENS, 0);
        Session stepped = backend.openSession("stepped", 16);
        int vocab = model.config().vocabSize();
        for (int t = 0; t < TOKENS.length; t++) {
            float[] logits = backend.forward(stepped, new int[] {TOKENS[t]}, t);
            assertArrayEquals(Arrays.copyOfRange(all, t * vocab, (t + 1) * vocab), logits, 1e-5f, "position " + t);
        }
        assertEquals(TOKENS.length, batched.length());
        assertEquals(TOKENS.length, stepped.length());
    }

    @Test
    void sessionsBatchedTogetherEqualSessionsRunAlone() {
        int dim = model.config().dim();
        int vocab = model.config().vocabSize();
        int[] a = Arrays.copyOf(TOKENS, 7);
        int[] b = Arrays.copyOf(TOKENS, 3);
        Session aloneA = backend.openSession("a", 16);
        Session aloneB = backend.openSession("b", 16);
        float[] expectedA = backend.forward(aloneA, a, 0);
        float[] expectedB = backend.forward(aloneB, b, 0);

        Session batchA = backend.openSession("a", 16);
        Session batchB = backend.openSession("b", 16);
        float[] hidden = new float[(a.length + b.length) * dim];
        float[] embedded = new float[hidden.length];
        backend.embed(a, embedded);
        System.arraycopy(embedded, 0, hidden, 0, a.length * dim);
        backend.embed(b, embedded);
        System.arraycopy(embedded, 0, hidden, a.length * dim, b.length * dim);
        backend.forwardLayers(List.of(new Chunk(batchA, 0, a.length), new Chunk(batchB, 0, b.length)), hidden, 0, model.config().layers());
        float[] logitsA = backend.logits(Arrays.copyOf(hidden, a.length * dim), a.length, 1);
        float[] logitsB = backend.logits(hidden, a.length + b.length, 1);
        assertArrayEquals(expectedA, logitsA, 1e-5f);
        assertArrayEquals(expectedB, logitsB, 1e-5f);
        assertEquals(vocab, logitsB.length);
    }

    @Test
    void layerRangesComposeToTheWholeModel() {
        int dim = model.config().dim();
        Session whole = backend.openSession("whole", 16);
        float[] expected = backend.forward(whole, TOKENS, 0);
        // two stages with their own sessions, as two pipeline workers would run them
        Session first = backend.openSession("s", 16);
        Session second = backend.openSession("s", 16);
        float[] hidden = new float[TOKENS.length * dim];
        backend.embed(TOKENS, hidden);
        backend.forwardLayers(List.of(new Chunk(first, 0, TOKENS.length)), hidden, 0, 2);
        backend.forwardLayers(List.of(new Chunk(second, 0, TOKENS.length)), hidden, 2, model.config().layers());
        assertArrayEquals(expected, backend.logits(hidden, TOKENS.length, 1), 1e-6f);
    }

    @Test
    void rewindingReplaysTheSameLogits() {
        Session s = backend.openSession("rewind", 16);
        float[] first = backend.forward(s, TOKENS, 0);
        backend.forward(s, new int[] {5, 6, 7}, 4);
        assertEquals(7, s.length());
        float[] again = backend.forward(s, Arrays.copyOfRange(TOKENS, 4, TOKENS.length), 4);
        assertArrayEquals(first, again, 1e-6f);
    }

    @Test
    void invalidStepsAreRefusedWithoutChangingTheSession() {
        Session s = backend.openSession("bad", 8);
        backend.forward(s, new int[] {1, 403}, 0);
        IllegalArgumentException gap = assertThrows(IllegalArgumentException.class, () -> backend.forward(s, new int[] {5}, 3));
        assertTrue(gap.getMessage().contains("position 3"), gap.getMessage());
        IllegalArgumentException full = assertThrows(IllegalArgumentException.class, () -> backend.forward(s, new int[7], 2));
        assertTrue(full.getMessage().contains("room for 8"), full.getMessage());
        IllegalArgumentException token = assertThrows(IllegalArgumentException.class, () -> backend.forward(s, new int[] {512}, 2));
        assertTrue(token.getMessage().contains("512"), token.getMessage());
        float[] hidden = new float[2 * model.config().dim()];
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> backend.forwardLayers(List.of(new Chunk(s, 2, 1), new Chunk(s, 3, 1)), hidden, 0, 1));
        assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
        assertThrows(IllegalArgumentException.class, () -> backend.openSession("big", model.config().contextLength() + 1));
        assertEquals(2, s.length());
    }

    /**
     * BinaryMoS on 2 threads cuts 64 rows into a span per thread (a whole 32-token pass over the signs
     * each), where one thread runs them as one span: the same floats, for one session and for a batch of
     * two whose boundary is not the spans'.
     */
    @Test
    void spansPerThreadGiveTheFloatsOfOneSpan() {
        Llama binary = binarized(model);
        int vocab = model.config().vocabSize();
        int dim = model.config().dim();
        int[] tokens = new int[64];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = (i * 37 + 1) % vocab;
        }
        try (CpuBackend one = new CpuBackend(binary, new Parallel(1)); CpuBackend two = new CpuBackend(binary, new Parallel(2))) {
            assertArrayEquals(one.forwardAll(one.openSession("one", 64), tokens, 0), two.forwardAll(two.openSession("two", 64), tokens, 0));

            int[] a = Arrays.copyOf(tokens, 40);
            int[] b = Arrays.copyOfRange(tokens, 40, 64);
            float[] aloneA = one.forward(one.openSession("a", 64), a, 0);
            float[] aloneB = one.forward(one.openSession("b", 64), b, 0);
            float[] hidden = new float[tokens.length * dim];
            two.embed(tokens, hidden);
            two.forwardLayers(List.of(new Chunk(two.openSession("a", 64), 0, a.length), new Chunk(two.openSession("b", 64), 0, b.length)),
                    hidden, 0, model.config().layers());
            assertArrayEquals(aloneA, two.logits(Arrays.copyOf(hidden, a.length * dim), a.length, 1));
            assertArrayEquals(aloneB, two.logits(hidden, tokens.length, 1));
        }
    }

    /** The model with every decoder linear binarized to BinaryMoS (4 experts), the rest shared. */
    private static Llama binarized(Llama dense) {
        LayerWeights[] layers = dense.weights().layers();
        LayerWeights[] binary = new LayerWeights[layers.length];
        for (int l = 0; l < layers.length; l++) {
            Linear[] ls = layers[l].linears();
            Linear[] b = new Linear[ls.length];
            for (int i = 0; i < ls.length; i++) {
                DenseLinear d = (DenseLinear) ls[i];
                b[i] = Binarizer.binarize(d.toFloatArray(), d.outFeatures(), d.inFeatures(), 4, 100L * l + i);
            }
            LayerWeights w = layers[l];
            binary[l] = new LayerWeights(w.attnNorm(), b[0], b[1], b[2], b[3], w.ffnNorm(), b[4], b[5], b[6]);
        }
        Weights w = dense.weights();
        return new Llama(dense.config(), dense.tokenizer(), new Weights(w.tokenEmbeddings(), binary, w.finalNorm(), w.classifier()), dense.source());
    }
}
