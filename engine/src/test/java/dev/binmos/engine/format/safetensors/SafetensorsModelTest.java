package dev.binmos.engine.format.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.format.LlamaTensors;
import dev.binmos.engine.format.ModelFormatException;
import dev.binmos.engine.format.Stories260K;
import dev.binmos.engine.format.Stories260K.Named;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SafetensorsModelTest {
    private static Llama reference;
    private static float[] referenceLogits;

    @TempDir
    Path dir;

    @BeforeAll
    static void loadReference() {
        reference = Stories260K.llama2c();
        referenceLogits = Stories260K.logits(reference);
    }

    /** stories260K's tensors under Hugging Face names, q/k rows moved to the rotate-half layout. */
    private static Map<String, Named> hfTensors() {
        Configuration c = reference.config();
        Map<String, Named> out = new LinkedHashMap<>();
        for (Named t : Stories260K.tensors(reference).values()) {
            String name = hfName(t.name());
            float[] values = t.values();
            if (name.endsWith("q_proj.weight") || name.endsWith("k_proj.weight")) {
                int heads = name.endsWith("q_proj.weight") ? c.heads() : c.kvHeads();
                int[] order = LlamaTensors.rotateHalfToInterleaved(heads, c.headSize());
                int in = (int) t.shape()[1];
                values = new float[values.length];
                for (int row = 0; row < order.length; row++) {
                    System.arraycopy(t.values(), row * in, values, order[row] * in, in);
                }
            }
            out.put(name, new Named(name, t.shape(), values));
        }
        return out;
    }

    private static String hfName(String gguf) {
        if (gguf.equals("token_embd.weight")) {
            return "model.embed_tokens.weight";
        }
        if (gguf.equals("output_norm.weight")) {
            return "model.norm.weight";
        }
        String[] parts = gguf.split("\\.");
        String part = switch (parts[2]) {
            case "attn_norm" -> "input_layernorm";
            case "attn_q" -> "self_attn.q_proj";
            case "attn_k" -> "self_attn.k_proj";
            case "attn_v" -> "self_attn.v_proj";
            case "attn_output" -> "self_attn.o_proj";
            case "ffn_norm" -> "post_attention_layernorm";
            case "ffn_gate" -> "mlp.gate_proj";
            case "ffn_up" -> "mlp.up_proj";
            case "ffn_down" -> "mlp.down_proj";
            default -> throw new AssertionError(gguf);
        };
        return "model.layers." + parts[1] + "." + part + ".weight";
    }

    /** config.json as transformers writes it for this model. */
    private static Map<String, Object> config() {
        Configuration c = reference.config();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("LlamaForCausalLM"));
        config.put("model_type", "llama");
        config.put("hidden_size", c.dim());
        config.put("intermediate_size", c.hiddenDim());
        config.put("num_hidden_layers", c.layers());
        config.put("num_attention_heads", c.heads());
        config.put("num_key_value_heads", c.kvHeads());
        config.put("vocab_size", c.vocabSize());
        config.put("max_position_embeddings", c.contextLength());
        config.put("rope_theta", 10000.0);
        config.put("rms_norm_eps", 1e-5);
        config.put("tie_word_embeddings", true);
        config.put("hidden_act", "silu");
        config.put("rope_scaling", null);
        config.put("torch_dtype", "float32");
        return config;
    }

    private void writeConfig(Map<String, Object> config) throws IOException {
        Files.writeString(dir.resolve("config.json"), Json.write(config));
    }

    private Path writeModel(Map<String, Named> tensors, SafetensorsDtype dtype) throws IOException {
        SafetensorsWriter writer = new SafetensorsWriter().putMetadata("format", "pt");
        tensors.values().forEach(t -> writer.add(t.name(), dtype, t.shape(), t.values()));
        Path file = dir.resolve(SafetensorsModel.SINGLE);
        writer.write(file);
        return file;
    }

    @Test
    void f32CheckpointGivesTheLlama2cLogits() throws IOException {
        writeConfig(config());
        writeModel(hfTensors(), SafetensorsDtype.F32);
        Files.copy(Stories260K.tokenizer(), dir.resolve("tokenizer.bin"));
        Llama model = SafetensorsModel.load(dir, null);
        assertEquals(reference.config(), model.config());
        assertEquals("safetensors", model.source().format());
        assertEquals(1 + 5 * 9 + 1, model.source().tensors().size());
        assertEquals(512, model.tokenizer().vocabSize());
        Stories260K.assertLogitsClose(referenceLogits, Stories260K.logits(model), "F32 safetensors");
    }

    @ParameterizedTest
    @EnumSource(value = SafetensorsDtype.class, names = {"F16", "BF16"})
    void halfPrecisionCheckpointsMatchTheirDequantisedWeights(SafetensorsDtype dtype) throws IOException {
        writeConfig(config());
        Path file = writeModel(hfTensors(), dtype);
        Llama model = SafetensorsModel.load(file, Stories260K.tokenizer());
        Llama dequantised = Stories260K.withValues(reference, t -> Stories260K.roundTrip(dtype.ggmlType, t.values()));
        Stories260K.assertLogitsClose(Stories260K.logits(dequantised), Stories260K.logits(model), dtype + " safetensors");
    }

    @Test
    void shardedCheckpointWithSeparateClassifier() throws IOException {
        Map<String, Object> config = config();
        config.put("tie_word_embeddings", false);
        writeConfig(config);
        Map<String, Named> tensors = hfTensors();
        Named embeddings = tensors.get("model.embed_tokens.weight");
        tensors.put("lm_head.weight", new Named("lm_head.weight", embeddings.shape(), embeddings.values()));
        SafetensorsWriter first = new SafetensorsWriter();
        SafetensorsWriter second = new SafetensorsWriter();
        Map<String, Object> weightMap = new LinkedHashMap<>();
        tensors.values().forEach(t -> {
            boolean early = t.name().startsWith("model.layers.0.") || t.name().startsWith("model.layers.1.") || t.name().startsWith("model.embed");
            (early ? first : second).add(t.name(), SafetensorsDtype.F32, t.shape(), t.values());
            weightMap.put(t.name(), early ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
        });
        first.write(dir.resolve("model-00001-of-00002.safetensors"));
        second.write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve(SafetensorsModel.INDEX), Json.write(Map.of("metadata", Map.of("total_size", 1), "weight_map", weightMap)));
        for (Path entry : List.of(dir, dir.resolve("config.json"), dir.resolve(SafetensorsModel.INDEX))) {
            Llama model = SafetensorsModel.load(entry, Stories260K.tokenizer());
            Stories260K.assertLogitsClose(referenceLogits, Stories260K.logits(model), "sharded safetensors via " + entry);
            assertEquals(1 + 5 * 9 + 1 + 1, model.source().tensors().size());
        }
    }

    @Test
    void untiedCheckpointNeedsLmHead() throws IOException {
        Map<String, Object> config = config();
        config.remove("tie_word_embeddings");
        writeConfig(config);
        writeModel(hfTensors(), SafetensorsDtype.F32);
        assertError(() -> SafetensorsModel.load(dir, Stories260K.tokenizer()), dir, "tensor lm_head.weight", "missing");
    }

    @Test
    void binaryMoSCheckpointsPointToTheImporter() throws IOException {
        Map<String, Object> config = config();
        config.put("num_expert", 4);
        writeConfig(config);
        writeModel(hfTensors(), SafetensorsDtype.F32);
        assertError(() -> SafetensorsModel.load(dir, Stories260K.tokenizer()), dir.resolve("config.json"), "num_expert",
                "binmos binarize --from-hf DIR");

        writeConfig(config());
        Map<String, Named> tensors = hfTensors();
        tensors.put("model.layers.0.self_attn.q_proj.in_channel_scale",
                new Named("model.layers.0.self_attn.q_proj.in_channel_scale", new long[] {64}, new float[64]));
        Path file = writeModel(tensors, SafetensorsDtype.F32);
        assertError(() -> SafetensorsModel.load(dir, Stories260K.tokenizer()), file,
                "tensor model.layers.0.self_attn.q_proj.in_channel_scale", "binmos binarize --from-hf DIR");
    }

    @Test
    void missingTokenizerAsksForTheOption() throws IOException {
        writeConfig(config());
        writeModel(hfTensors(), SafetensorsDtype.F32);
        assertError(() -> SafetensorsModel.load(dir, null), dir, "tokenizer", "pass a llama2.c tokenizer file with --tokenizer");
    }

    @Test
    void configProblemsAreNamed() throws IOException {
        writeModel(hfTensors(), SafetensorsDtype.F32);
        Path configFile = dir.resolve("config.json");
        assertError(() -> SafetensorsModel.load(dir, Stories260K.tokenizer()), configFile, "config.json", "not found");

        Map<String, Object> config = config();
        config.put("architectures", List.of("MistralForCausalLM"));
        writeConfig(config);
        assertError(() -> SafetensorsModel.load(dir, Stories260K.tokenizer()), configFile, "architectures", "must contain \"LlamaForCausalLM\"");

        config = config();
        config.remove("num_hidden_layers");
        writeConfig(config);
        assertError(() -> SafetensorsModel.load(dir, Stories260K.tokenizer()), configFile, "num_hidden_layers", "missing");

        config = config();
        config.put("rope_scaling", Map.of("rope_type", "llama3", "factor", 8.0));
        writeConfig(config);
        assertError(() -> SafetensorsModel.load(dir, Stories260K.tokenizer()), configFile, "rope_scaling", "not supported");

        Files.writeString(configFile, "{\"hidden_size\": 64,}");
        assertError(() -> SafetensorsModel.load(dir, Stories260K.tokenizer()), configFile, "JSON", "at position 19");
    }

    @Test
    void tensorShapeMustMatchTheConfiguration() throws IOException {
        Map<String, Object> config = config();
        config.put("num_key_value_heads", 8);
        writeConfig(config);
        Path file = writeModel(hfTensors(), SafetensorsDtype.F32);
        assertError(() -> SafetensorsModel.load(dir, Stories260K.tokenizer()), file, "tensor model.layers.0.self_attn.k_proj.weight shape",
                "expected [64, 64] (outermost first) for the model's configuration, found [32, 64]");
    }

    @Test
    void missingPathIsAnIoError() {
        assertThrows(UncheckedIOException.class, () -> SafetensorsModel.load(dir.resolve("absent"), null));
    }

    @Test
    void missingWeightsAreNamed() throws IOException {
        writeConfig(config());
        assertError(() -> SafetensorsModel.load(dir, Stories260K.tokenizer()), dir, "weights", "neither model.safetensors nor model.safetensors.index.json");
    }

    private static void assertError(Executable load, Path file, String field, String problem) {
        ModelFormatException e = assertThrows(ModelFormatException.class, load);
        assertTrue(e.getMessage().startsWith(file + ": " + field + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
    }
}
