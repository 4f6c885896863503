package dev.binmos.engine.format.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.TestData;
import dev.binmos.engine.format.ModelFormatException;
import dev.binmos.engine.format.Stories260K;
import dev.binmos.engine.format.Stories260K.Named;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.model.TensorEntry;
import dev.binmos.engine.tensor.GgmlType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class GgufModelTest {
    private static Llama reference;
    private static float[] referenceLogits;

    @TempDir
    Path dir;

    @BeforeAll
    static void loadReference() {
        reference = Stories260K.llama2c();
        referenceLogits = Stories260K.logits(reference);
    }

    @Test
    void loadsSharedStories260KWithItsOwnTokenizer() {
        Llama model = GgufModel.load(TestData.shared("models/stories260K.gguf"), null);
        Configuration c = model.config();
        assertEquals(new Configuration(64, 172, 5, 8, 4, 512, 512, 10000f, 1e-5f), c);
        assertEquals(512, model.tokenizer().vocabSize());
        assertEquals(1, model.tokenizer().bos());
        assertEquals("gguf", model.source().format());
        assertEquals("stories260K", model.source().metadata().get("general.name"));
        assertEquals(48, model.source().tensors().size());
        TensorEntry embeddings = model.source().tensors().getFirst();
        assertEquals("token_embd.weight", embeddings.name());
        assertArrayEquals(new long[] {512, 64}, embeddings.shape());
        assertEquals(512 * 64 * 4, embeddings.bytes());
        Stories260K.assertLogitsClose(referenceLogits, Stories260K.logits(model), "the same model as the llama2.c checkpoint");
    }

    @Test
    void f32FileWrittenFromLlama2cWeightsGivesTheSameLogits() throws IOException {
        Path file = write(withTokenizer(llama(Map.of())), tensors(), t -> GgmlType.F32);
        Llama model = GgufModel.load(file, null);
        assertEquals(reference.config(), model.config());
        Stories260K.assertLogitsClose(referenceLogits, Stories260K.logits(model), "F32 GGUF");
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16", "Q8_0"})
    void quantisedFilesMatchAFloatModelOfTheirDequantisedWeights(GgmlType type) throws IOException {
        // Q8_0 needs rows of whole 32-blocks: the 172-wide ffn_down rows stay F16, as llama.cpp does; norms stay F32.
        Function<Named, GgmlType> types = t -> t.shape().length == 1 ? GgmlType.F32
                : t.rowLength() % type.blockSize == 0 ? type : GgmlType.F16;
        Path file = write(llama(Map.of()), tensors(), types);
        Llama model = GgufModel.load(file, Stories260K.tokenizer());
        Llama dequantised = Stories260K.withValues(reference, t -> Stories260K.roundTrip(types.apply(t), t.values()));
        float[] expected = Stories260K.logits(dequantised);
        Stories260K.assertLogitsClose(expected, Stories260K.logits(model), type + " GGUF");
        assertTrue(Stories260K.relativeError(expected, referenceLogits) > 0, "quantisation changed the weights");
        assertEquals(type, model.source().tensors().stream().filter(t -> t.name().equals("blk.0.attn_q.weight")).findFirst().orElseThrow().type());
    }

    @Test
    void separateClassifierIsUsedWhenPresent() throws IOException {
        GgufWriter writer = llama(Map.of()).addTensor("output.weight", GgmlType.F32, new long[] {512, 64}, new float[512 * 64]);
        Path file = write(writer, tensors(), t -> GgmlType.F32);
        float[] logits = Stories260K.logits(GgufModel.load(file, Stories260K.tokenizer()));
        for (float logit : logits) {
            assertEquals(0f, logit, "an all-zero output.weight gives zero logits");
        }
    }

    @Test
    void tensorShapeMustMatchTheConfiguration() throws IOException {
        Map<String, Named> tensors = tensors();
        tensors.put("blk.2.attn_k.weight", new Named("blk.2.attn_k.weight", new long[] {64, 64}, new float[64 * 64]));
        Path file = write(llama(Map.of()), tensors, t -> GgmlType.F32);
        assertError(() -> GgufModel.load(file, Stories260K.tokenizer()), file, "tensor blk.2.attn_k.weight shape",
                "expected [32, 64] (outermost first) for the model's configuration, found [64, 64]");
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Map<String, Named> tensors = tensors();
        tensors.remove("blk.4.ffn_up.weight");
        Path file = write(llama(Map.of()), tensors, t -> GgmlType.F32);
        assertError(() -> GgufModel.load(file, Stories260K.tokenizer()), file, "tensor blk.4.ffn_up.weight", "missing");
    }

    @Test
    void otherArchitecturesAreRefused() throws IOException {
        Path file = dir.resolve("neox.gguf");
        new GgufWriter().putString("general.architecture", "gptneox").write(file);
        assertError(() -> GgufModel.load(file, null), file, "metadata 'general.architecture'", "architecture gptneox is not supported");
    }

    @Test
    void missingAndMistypedHyperParameters() throws IOException {
        Path missing = dir.resolve("missing.gguf");
        new GgufWriter().putString("general.architecture", "llama").putUInt32("llama.embedding_length", 64)
                .putUInt32("llama.attention.head_count", 8).write(missing);
        assertError(() -> GgufModel.load(missing, null), missing, "tensor token_embd.weight", "missing");
        Path mistyped = write(llama(Map.of("llama.block_count", "five")), tensors(), t -> GgmlType.F32);
        assertError(() -> GgufModel.load(mistyped, null), mistyped, "metadata 'llama.block_count'", "must be a positive integer, found five");
    }

    @Test
    void missingTokenizerMetadataPointsToTheOverride() throws IOException {
        Path file = write(llama(Map.of()), tensors(), t -> GgmlType.F32);
        assertError(() -> GgufModel.load(file, null), file, "metadata 'tokenizer.ggml.*'", "--tokenizer");
    }

    private Path write(GgufWriter writer, Map<String, Named> tensors, Function<Named, GgmlType> types) throws IOException {
        for (Named t : tensors.values()) {
            writer.addTensor(t.name(), types.apply(t), t.shape(), t.values());
        }
        Path file = dir.resolve("model.gguf");
        writer.write(file);
        return file;
    }

    private static Map<String, Named> tensors() {
        return Stories260K.tensors(reference);
    }

    /** A writer holding the llama.* keys as llama.cpp writes them (UINT32, FLOAT32); replaced keys get a string. */
    private static GgufWriter llama(Map<String, String> replaced) {
        Configuration c = reference.config();
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama");
        Map<String, Integer> keys = new LinkedHashMap<>();
        keys.put("llama.context_length", c.contextLength());
        keys.put("llama.embedding_length", c.dim());
        keys.put("llama.block_count", c.layers());
        keys.put("llama.feed_forward_length", c.hiddenDim());
        keys.put("llama.attention.head_count", c.heads());
        keys.put("llama.attention.head_count_kv", c.kvHeads());
        keys.forEach((key, v) -> {
            if (replaced.containsKey(key)) {
                w.putString(key, replaced.get(key));
            } else {
                w.putUInt32(key, v);
            }
        });
        return w.putFloat32("llama.attention.layer_norm_rms_epsilon", c.normEps()).putFloat32("llama.rope.freq_base", c.ropeTheta());
    }

    /** The tokenizer.ggml.* keys of the shared stories260K.gguf. */
    private static GgufWriter withTokenizer(GgufWriter w) {
        try {
            GgufFile shared = GgufFile.open(TestData.shared("models/stories260K.gguf"));
            shared.metadata().forEach((key, value) -> {
                if (!key.startsWith("tokenizer.ggml.")) {
                    return;
                }
                switch (value) {
                    case String s -> w.putString(key, s);
                    case Long n -> w.putUInt32(key, n);
                    case List<?> list when list.getFirst() instanceof String -> w.putArray(key, GgufValueType.STRING, list);
                    case List<?> list when list.getFirst() instanceof Float -> w.putArray(key, GgufValueType.FLOAT32, list);
                    case List<?> list -> w.putArray(key, GgufValueType.INT32, list);
                    default -> throw new AssertionError(key + " = " + value);
                }
            });
            return w;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void assertError(Executable load, Path file, String field, String problem) {
        ModelFormatException e = assertThrows(ModelFormatException.class, load);
        assertTrue(e.getMessage().startsWith(file + ": " + field + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
    }
}
