package dev.binmos.engine.binarymos;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.format.ModelFormatException;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.format.Stories260K;
import dev.binmos.engine.format.safetensors.SafetensorsDtype;
import dev.binmos.engine.format.safetensors.SafetensorsModel;
import dev.binmos.engine.format.safetensors.SafetensorsWriter;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.tensor.GgmlType;
import dev.binmos.engine.util.Json;
import dev.binmos.engine.util.ProgressListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny checkpoint in the official BinaryMoS layout (Hugging Face names, q/k in the rotate-half RoPE
 * layout, FP16 latent weights, routers and scales) imported with {@code binarize --from-hf}: its logits
 * against a scalar forward computed straight from the FP16 values in the checkpoint's own layout.
 */
class HfCheckpointTest {
    private static final int EXPERTS = 4;
    /** dim 32 and hidden 96: rows of 32 and 96 columns, both padded; 4 query heads over 2 key/value heads. */
    private static final Configuration CONFIG = new Configuration(32, 96, 2, 4, 2, 512, 64, 10000f, 1e-5f);
    private static final String[] LINEARS = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
            "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};

    @TempDir
    Path dir;

    private final SplittableRandom random = new SplittableRandom(11);
    private final SafetensorsWriter writer = new SafetensorsWriter().putMetadata("format", "pt");

    @Test
    void importedCheckpointMatchesTheScalarForwardInItsOwnLayout() throws IOException {
        ScalarLlama oracle = writeCheckpoint();
        Path gguf = dir.resolve("imported.gguf");
        Binarizer.writeBinaryMos(SafetensorsModel.loadBinaryMos(dir, Stories260K.tokenizer()), "hf", GgmlType.F16, gguf, ProgressListener.NONE);
        float[] actual = Stories260K.logits(ModelLoader.load(gguf, null));
        double error = Stories260K.relativeError(actual, oracle.logits(Stories260K.TOKENS));
        assertTrue(error <= 1e-3, "relative logit error " + error);
    }

    @Test
    void theFullPrecisionLoaderPointsToBinarize() throws IOException {
        writeCheckpoint();
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(dir, Stories260K.tokenizer()));
        assertTrue(e.getMessage().contains("binarize --from-hf"), e.getMessage());
    }

    /** Writes config.json and model.safetensors; returns the oracle over the same (FP16-rounded) values. */
    private ScalarLlama writeCheckpoint() throws IOException {
        int dim = CONFIG.dim();
        int hidden = CONFIG.hiddenDim();
        int kvDim = CONFIG.kvDim();
        int[][] shapes = {{dim, dim}, {kvDim, dim}, {kvDim, dim}, {dim, dim}, {hidden, dim}, {hidden, dim}, {dim, hidden}};
        float[] embeddings = tensor("model.embed_tokens.weight", 1, CONFIG.vocabSize(), dim);
        float[][] attnNorm = new float[CONFIG.layers()][];
        float[][] ffnNorm = new float[CONFIG.layers()][];
        ScalarLlama.Block[] blocks = new ScalarLlama.Block[CONFIG.layers()];
        for (int l = 0; l < CONFIG.layers(); l++) {
            String p = "model.layers." + l + ".";
            attnNorm[l] = positive(p + "input_layernorm.weight", dim);
            ffnNorm[l] = positive(p + "post_attention_layernorm.weight", dim);
            ScalarLlama.Lin[] linears = new ScalarLlama.Lin[LINEARS.length];
            for (int i = 0; i < LINEARS.length; i++) {
                String base = p + LINEARS[i];
                int out = shapes[i][0];
                int in = shapes[i][1];
                float[] latent = tensor(base + ".weight", 0.05, out, in);
                float[] router = tensor(base + ".gate_linear.weight", 2 / Math.sqrt(in), EXPERTS, in);
                float[] sIn = tensor(base + ".in_channel_scale", 1, EXPERTS, in);
                float[] sOut = tensor(base + ".out_channel_scale", 1 / Math.sqrt(in), EXPERTS, out);
                float[] signs = new float[latent.length];
                for (int k = 0; k < latent.length; k++) {
                    signs[k] = latent[k] < 0 ? -1 : 1; // sign(0) = +1
                }
                linears[i] = ScalarLlama.binaryMos(signs, router, sIn, sOut, EXPERTS, out, in);
            }
            blocks[l] = i -> linears[i];
        }
        float[] finalNorm = positive("model.norm.weight", dim);
        float[] classifier = tensor("lm_head.weight", 1, CONFIG.vocabSize(), dim);
        writer.write(dir.resolve(SafetensorsModel.SINGLE));
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("LlamaForCausalLM"));
        config.put("model_type", "llama");
        config.put("hidden_size", (long) dim);
        config.put("intermediate_size", (long) hidden);
        config.put("num_hidden_layers", (long) CONFIG.layers());
        config.put("num_attention_heads", (long) CONFIG.heads());
        config.put("num_key_value_heads", (long) CONFIG.kvHeads());
        config.put("vocab_size", (long) CONFIG.vocabSize());
        config.put("max_position_embeddings", (long) CONFIG.contextLength());
        config.put("rms_norm_eps", 1e-5);
        config.put("rope_theta", 10000.0);
        config.put("tie_word_embeddings", false);
        config.put("torch_dtype", "float16");
        config.put("num_expert", (long) EXPERTS);
        Files.writeString(dir.resolve(SafetensorsModel.CONFIG), Json.write(config));
        return new ScalarLlama(CONFIG, embeddings, attnNorm, ffnNorm, finalNorm, blocks, classifier, true);
    }

    /** An FP16 tensor of normal values (about 2% exact zeros, and negative scales too) times scale. */
    private float[] tensor(String name, double scale, int rows, int cols) {
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextInt(50) == 0 ? 0 : fp16((float) (random.nextGaussian() * scale));
        }
        writer.add(name, SafetensorsDtype.F16, new long[] {rows, cols}, values);
        return values;
    }

    private float[] positive(String name, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = fp16((float) random.nextDouble(0.5, 1.5));
        }
        writer.add(name, SafetensorsDtype.F16, new long[] {n}, values);
        return values;
    }

    private static float fp16(float value) {
        return Float.float16ToFloat(Float.floatToFloat16(value));
    }
}
