package dev.binmos.engine.format.safetensors;

import dev.binmos.engine.format.LlamaTensors;
import dev.binmos.engine.format.ModelFormatException;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.model.ModelSource;
import dev.binmos.engine.model.TensorEntry;
import dev.binmos.engine.model.Weights;
import dev.binmos.engine.tokenizer.Tokenizer;
import dev.binmos.engine.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Loads a Hugging Face Llama checkpoint: {@code config.json} beside {@code model.safetensors} or a sharded
 * {@code model.safetensors.index.json}. Hugging Face keeps q/k rows in the rotate-half RoPE layout; they
 * are read through a row order giving the interleaved layout, without copying.
 */
public final class SafetensorsModel {
    public static final String CONFIG = "config.json";
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    private static final LlamaTensors.Names NAMES = new LlamaTensors.Names("model.embed_tokens.weight",
            (layer, part) -> "model.layers." + layer + "." + switch (part) {
                case ATTN_NORM -> "input_layernorm";
                case Q -> "self_attn.q_proj";
                case K -> "self_attn.k_proj";
                case V -> "self_attn.v_proj";
                case O -> "self_attn.o_proj";
                case FFN_NORM -> "post_attention_layernorm";
                case GATE -> "mlp.gate_proj";
                case UP -> "mlp.up_proj";
                case DOWN -> "mlp.down_proj";
            } + ".weight",
            "model.norm.weight", "lm_head.weight");
    private static final String BINARIZE_HINT = "this is a BinaryMoS checkpoint: convert it with `binmos binarize --from-hf DIR`";

    private SafetensorsModel() {
    }

    /**
     * @param dirOrFile the model directory, its {@code config.json}, a safetensors file or an index file
     * @param tokenizer llama2.c tokenizer file; null looks for {@code tokenizer.bin} in the model directory
     * @throws ModelFormatException         naming file and field when the checkpoint is not a usable Llama
     * @throws java.io.UncheckedIOException when a file cannot be read
     */
    public static Llama load(Path dirOrFile, Path tokenizer) {
        try {
            return read(dirOrFile, tokenizer, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model " + dirOrFile + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads an official BinaryMoS checkpoint (config.json with {@code num_expert}; per linear its latent
     * weights and {@code gate_linear.weight}, {@code in_channel_scale}, {@code out_channel_scale}) with
     * every block linear a {@link dev.binmos.engine.binarymos.BinaryMosLinear}: the signs are packed on the
     * heap, q/k rows and their S_out columns reordered to the interleaved RoPE layout.
     *
     * @param tokenizer llama2.c tokenizer file; null looks for {@code tokenizer.bin} in the model directory
     */
    public static Llama loadBinaryMos(Path dirOrFile, Path tokenizer) {
        try {
            return read(dirOrFile, tokenizer, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model " + dirOrFile + ": " + e.getMessage(), e);
        }
    }

    private static Llama read(Path dirOrFile, Path tokenizerFile, boolean binaryMos) throws IOException {
        if (!Files.exists(dirOrFile)) {
            throw new NoSuchFileException(dirOrFile.toString());
        }
        boolean wholeDirectory = Files.isDirectory(dirOrFile) || dirOrFile.getFileName().toString().equals(CONFIG);
        Path dir = Files.isDirectory(dirOrFile) ? dirOrFile : dirOrFile.toAbsolutePath().getParent();
        Path configFile = dir.resolve(CONFIG);
        Map<String, Object> config = readJson(configFile);
        if (!binaryMos && config.containsKey("num_expert")) {
            throw new ModelFormatException(configFile, "num_expert", BINARIZE_HINT);
        }
        Map<String, SafetensorsFile> byTensor = wholeDirectory ? openDirectory(dir)
                : dirOrFile.getFileName().toString().endsWith(".index.json") ? openSharded(dirOrFile, dir) : openSingle(dirOrFile);
        for (String name : byTensor.keySet()) {
            if (!binaryMos && name.endsWith("in_channel_scale")) {
                throw new ModelFormatException(byTensor.get(name).path(), "tensor " + name, BINARIZE_HINT);
            }
        }
        Configuration configuration = configuration(configFile, config);
        boolean tied = bool(configFile, config, "tie_word_embeddings", false);
        if (!tied && !byTensor.containsKey(NAMES.classifier())) {
            throw new ModelFormatException(dir, "tensor " + NAMES.classifier(), "missing, and config.json does not set tie_word_embeddings");
        }
        LlamaTensors.Names names = tied ? new LlamaTensors.Names(NAMES.embeddings(), NAMES.layer(), NAMES.finalNorm(), null) : NAMES;
        Function<String, LlamaTensors.Found> lookup = name -> {
            SafetensorsFile file = byTensor.get(name);
            if (file == null) {
                return null;
            }
            SafetensorsTensor t = file.tensors().get(name);
            return new LlamaTensors.Found(file.tensor(t), t.shape(), file.path());
        };
        Weights weights = binaryMos
                ? LlamaTensors.assemble(configuration, names, lookup, dir, true,
                        new BinaryMosCheckpoint(lookup, dir, positiveInt(configFile, config, "num_expert", null), NAMES.layer()))
                : LlamaTensors.assemble(configuration, names, lookup, dir, true);
        Tokenizer tokenizer = tokenizer(dir, tokenizerFile, configuration.vocabSize());
        return new Llama(configuration, tokenizer, weights, new ModelSource(dirOrFile, "safetensors", config, entries(byTensor)));
    }

    private static Tokenizer tokenizer(Path dir, Path file, int vocabSize) {
        if (file == null) {
            file = dir.resolve("tokenizer.bin");
            if (!Files.isRegularFile(file)) {
                throw new ModelFormatException(dir, "tokenizer", "no tokenizer.bin in the model directory: pass a llama2.c tokenizer file with --tokenizer");
            }
        }
        return Tokenizer.fromLlama2c(file, vocabSize);
    }

    /** The float tensors, for {@code binmos inspect}. */
    private static List<TensorEntry> entries(Map<String, SafetensorsFile> byTensor) {
        List<TensorEntry> entries = new ArrayList<>();
        byTensor.forEach((name, file) -> {
            SafetensorsTensor t = file.tensors().get(name);
            if (t.dtype().ggmlType != null) {
                entries.add(new TensorEntry(name, t.dtype().ggmlType, t.shape(), t.end() - t.begin()));
            }
        });
        return List.copyOf(entries);
    }

    /** Every tensor name mapped to the (shard) file holding it. */
    private static Map<String, SafetensorsFile> openDirectory(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve(SINGLE))) {
            return openSingle(dir.resolve(SINGLE));
        }
        if (!Files.isRegularFile(dir.resolve(INDEX))) {
            throw new ModelFormatException(dir, "weights", "neither " + SINGLE + " nor " + INDEX + " found");
        }
        return openSharded(dir.resolve(INDEX), dir);
    }

    private static Map<String, SafetensorsFile> openSingle(Path path) throws IOException {
        SafetensorsFile file = SafetensorsFile.open(path);
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        file.tensors().keySet().forEach(name -> byTensor.put(name, file));
        return byTensor;
    }

    private static Map<String, SafetensorsFile> openSharded(Path index, Path dir) throws IOException {
        if (!(readJson(index).get("weight_map") instanceof Map<?, ?> weightMap)) {
            throw new ModelFormatException(index, "weight_map", "missing or not an object");
        }
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : weightMap.entrySet()) {
            String name = (String) e.getKey();
            if (!(e.getValue() instanceof String shardName) || !isPlainFileName(shardName)) {
                throw new ModelFormatException(index, "weight_map." + name, "must name a file in the model directory, found " + Json.write(e.getValue()));
            }
            SafetensorsFile shard = shards.get(shardName);
            if (shard == null) {
                shard = SafetensorsFile.open(dir.resolve(shardName));
                shards.put(shardName, shard);
            }
            if (!shard.tensors().containsKey(name)) {
                throw new ModelFormatException(shard.path(), "tensor " + name, "missing, but " + index.getFileName() + " places it in this shard");
            }
            byTensor.put(name, shard);
        }
        return byTensor;
    }

    private static boolean isPlainFileName(String name) {
        return !name.isEmpty() && !name.contains("/") && !name.contains("\\") && !name.equals("..") && !name.equals(".");
    }

    private static Configuration configuration(Path file, Map<String, Object> config) {
        if (!(config.get("architectures") instanceof List<?> architectures) || !architectures.contains("LlamaForCausalLM")) {
            throw new ModelFormatException(file, "architectures", "must contain \"LlamaForCausalLM\", found " + Json.write(config.get("architectures")));
        }
        if (config.get("rope_scaling") != null) {
            throw new ModelFormatException(file, "rope_scaling", "RoPE scaling " + Json.write(config.get("rope_scaling")) + " is not supported");
        }
        for (String flag : new String[] {"attention_bias", "mlp_bias"}) {
            if (bool(file, config, flag, false)) {
                throw new ModelFormatException(file, flag, "bias terms are not supported");
            }
        }
        Object activation = config.getOrDefault("hidden_act", "silu");
        if (!"silu".equals(activation)) {
            throw new ModelFormatException(file, "hidden_act", "activation " + Json.write(activation) + " is not supported (Llama uses silu)");
        }
        int dim = positiveInt(file, config, "hidden_size", null);
        int heads = positiveInt(file, config, "num_attention_heads", null);
        if (config.containsKey("head_dim") && positiveInt(file, config, "head_dim", null) * heads != dim) {
            throw new ModelFormatException(file, "head_dim", config.get("head_dim") + " × " + heads + " heads differs from hidden_size " + dim + " (not supported)");
        }
        try {
            return new Configuration(dim,
                    positiveInt(file, config, "intermediate_size", null),
                    positiveInt(file, config, "num_hidden_layers", null),
                    heads,
                    positiveInt(file, config, "num_key_value_heads", heads),
                    positiveInt(file, config, "vocab_size", null),
                    positiveInt(file, config, "max_position_embeddings", null),
                    positiveFloat(file, config, "rope_theta", 10000f),
                    positiveFloat(file, config, "rms_norm_eps", 1e-6f));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, "hyper-parameters", "do not describe a Llama model: " + e.getMessage());
        }
    }

    private static Map<String, Object> readJson(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(file, file.getFileName().toString(), "not found");
        }
        try {
            return Json.parseObject(Files.readString(file));
        } catch (Json.JsonException e) {
            throw new ModelFormatException(file, "JSON", e.getMessage());
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(file, "JSON", "not valid UTF-8");
        }
    }

    private static int positiveInt(Path file, Map<String, Object> config, String key, Integer fallback) {
        Object value = config.get(key);
        if (value == null) {
            if (fallback == null) {
                throw new ModelFormatException(file, key, "missing");
            }
            return fallback;
        }
        if (!(value instanceof Long n) || n < 1 || n > Integer.MAX_VALUE) {
            throw new ModelFormatException(file, key, "must be a positive integer, found " + Json.write(value));
        }
        return (int) (long) n;
    }

    private static float positiveFloat(Path file, Map<String, Object> config, String key, float fallback) {
        Object value = config.get(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof Number n) || !(n.floatValue() > 0) || Float.isInfinite(n.floatValue())) {
            throw new ModelFormatException(file, key, "must be a positive number, found " + Json.write(value));
        }
        return n.floatValue();
    }

    private static boolean bool(Path file, Map<String, Object> config, String key, boolean fallback) {
        Object value = config.get(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof Boolean b)) {
            throw new ModelFormatException(file, key, "must be true or false, found " + Json.write(value));
        }
        return b;
    }
}
