package dev.binmos.engine.format.gguf;

import dev.binmos.engine.format.LlamaTensors;
import dev.binmos.engine.format.ModelFormatException;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.model.ModelSource;
import dev.binmos.engine.model.TensorEntry;
import dev.binmos.engine.model.Weights;
import dev.binmos.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Loads a llama-architecture GGUF file (as llama.cpp writes it, or with BinaryMoS linears: docs/FORMAT.md)
 * as a {@link Llama}. Weights stay memory-mapped. GGUF llama q/k weights are already in the interleaved RoPE layout the forward pass uses.
 */
public final class GgufModel {
    private static final LlamaTensors.Names NAMES = new LlamaTensors.Names("token_embd.weight",
            (layer, part) -> blockName(layer, part) + ".weight", "output_norm.weight", "output.weight");

    private GgufModel() {
    }

    /** The GGUF name of a decoder-block tensor without its suffix, e.g. {@code blk.3.attn_q}. */
    public static String blockName(int layer, LlamaTensors.Part part) {
        return "blk." + layer + "." + switch (part) {
            case ATTN_NORM -> "attn_norm";
            case Q -> "attn_q";
            case K -> "attn_k";
            case V -> "attn_v";
            case O -> "attn_output";
            case FFN_NORM -> "ffn_norm";
            case GATE -> "ffn_gate";
            case UP -> "ffn_up";
            case DOWN -> "ffn_down";
        };
    }

    /** The GGUF name of a decoder-block tensor, e.g. {@code blk.3.attn_q.weight}. */
    public static String tensorName(int layer, LlamaTensors.Part part) {
        return NAMES.layer().apply(layer, part);
    }

    public static String embeddingsName() {
        return NAMES.embeddings();
    }

    public static String finalNormName() {
        return NAMES.finalNorm();
    }

    public static String classifierName() {
        return NAMES.classifier();
    }

    /**
     * A writer that already holds a Llama model's hyper-parameters and tokenizer as llama.cpp names them;
     * the caller adds the tensors (named by {@link #tensorName} and friends).
     */
    public static GgufWriter writer(Configuration c, Tokenizer tokenizer, String name) {
        if (tokenizer.vocabSize() != c.vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize() + " tokens, the model's vocabulary " + c.vocabSize());
        }
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .putString("general.name", name)
                .putUInt32("llama.embedding_length", c.dim())
                .putUInt32("llama.feed_forward_length", c.hiddenDim())
                .putUInt32("llama.block_count", c.layers())
                .putUInt32("llama.attention.head_count", c.heads())
                .putUInt32("llama.attention.head_count_kv", c.kvHeads())
                .putUInt32("llama.vocab_size", c.vocabSize())
                .putUInt32("llama.context_length", c.contextLength())
                .putUInt32("llama.rope.dimension_count", c.headSize())
                .putFloat32("llama.rope.freq_base", c.ropeTheta())
                .putFloat32("llama.attention.layer_norm_rms_epsilon", c.normEps());
        tokenizer.toGgufMetadata().forEach((key, value) -> {
            switch (value) {
                case String text -> w.putString(key, text);
                case Integer id -> w.putUInt32(key, id);
                case List<?> list when !list.isEmpty() && list.getFirst() instanceof String -> w.putArray(key, GgufValueType.STRING, list);
                case List<?> list when !list.isEmpty() && list.getFirst() instanceof Float -> w.putArray(key, GgufValueType.FLOAT32, list);
                case List<?> list -> w.putArray(key, GgufValueType.INT32, list);
                default -> throw new IllegalStateException("unexpected tokenizer metadata " + key + " = " + value);
            }
        });
        return w;
    }

    /**
     * @param tokenizerOverride a llama2.c tokenizer file to use instead of the one in the metadata, or null
     * @throws ModelFormatException         naming file and field when the file is not a usable llama GGUF
     * @throws java.io.UncheckedIOException when it cannot be read
     */
    public static Llama load(Path file, Path tokenizerOverride) {
        GgufFile gguf;
        try {
            gguf = GgufFile.open(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model " + file + ": " + e.getMessage(), e);
        }
        Configuration config = configuration(gguf);
        LlamaTensors.Names names = gguf.tensorInfo(NAMES.classifier()) != null ? NAMES
                : new LlamaTensors.Names(NAMES.embeddings(), NAMES.layer(), NAMES.finalNorm(), null);
        Function<String, LlamaTensors.Found> lookup = name -> {
            GgufTensorInfo info = gguf.tensorInfo(name);
            return info == null ? null : new LlamaTensors.Found(gguf.tensor(info), info.shape(), file);
        };
        Weights weights = BinaryMosGguf.isBinaryMos(gguf)
                ? LlamaTensors.assemble(config, names, lookup, file, false, BinaryMosGguf.linears(gguf))
                : LlamaTensors.assemble(config, names, lookup, file, false);
        Tokenizer tokenizer = tokenizer(gguf, tokenizerOverride, config.vocabSize());
        List<TensorEntry> entries = gguf.tensors().stream()
                .map(t -> new TensorEntry(t.name(), t.type(), t.shape(), t.byteSize()))
                .toList();
        return new Llama(config, tokenizer, weights, new ModelSource(file, "gguf", gguf.metadata(), entries));
    }

    private static Configuration configuration(GgufFile gguf) {
        Map<String, Object> meta = gguf.metadata();
        Object architecture = meta.get("general.architecture");
        if (!"llama".equals(architecture)) {
            throw error(gguf, "general.architecture", architecture == null ? "missing"
                    : "architecture " + architecture + " is not supported (Binmos runs llama)");
        }
        String a = "llama.";
        int dim = positiveInt(gguf, a + "embedding_length", null);
        int heads = positiveInt(gguf, a + "attention.head_count", null);
        GgufTensorInfo embeddings = gguf.tensorInfo(NAMES.embeddings());
        if (embeddings == null || embeddings.dims().length != 2) {
            throw new ModelFormatException(gguf.path(), "tensor " + NAMES.embeddings(), embeddings == null ? "missing" : "must have 2 dimensions");
        }
        Configuration config;
        try {
            config = new Configuration(dim,
                    positiveInt(gguf, a + "feed_forward_length", null),
                    positiveInt(gguf, a + "block_count", null),
                    heads,
                    positiveInt(gguf, a + "attention.head_count_kv", heads),
                    positiveInt(gguf, a + "vocab_size", (int) Math.min(embeddings.dims()[1], Integer.MAX_VALUE)),
                    positiveInt(gguf, a + "context_length", null),
                    positiveFloat(gguf, a + "rope.freq_base", 10000f),
                    positiveFloat(gguf, a + "attention.layer_norm_rms_epsilon", 1e-5f));
        } catch (IllegalArgumentException e) {
            throw error(gguf, "llama.*", "hyper-parameters do not describe a Llama model: " + e.getMessage());
        }
        int headSize = config.headSize();
        for (String key : new String[] {"rope.dimension_count", "attention.key_length", "attention.value_length"}) {
            if (meta.containsKey(a + key) && positiveInt(gguf, a + key, null) != headSize) {
                throw error(gguf, a + key, meta.get(a + key) + " differs from the head size " + headSize + " (not supported)");
            }
        }
        Object scaling = meta.get(a + "rope.scaling.type");
        if (scaling != null && !"none".equals(scaling)) {
            throw error(gguf, a + "rope.scaling.type", "RoPE scaling " + scaling + " is not supported");
        }
        return config;
    }

    private static Tokenizer tokenizer(GgufFile gguf, Path override, int vocabSize) {
        if (override != null) {
            return Tokenizer.fromLlama2c(override, vocabSize);
        }
        Tokenizer tokenizer;
        try {
            tokenizer = Tokenizer.fromGguf(gguf.metadata());
        } catch (IllegalArgumentException e) {
            throw error(gguf, "tokenizer.ggml.*", e.getMessage() + " (pass a llama2.c tokenizer file with --tokenizer to use another)");
        }
        if (tokenizer.vocabSize() != vocabSize) {
            throw error(gguf, "tokenizer.ggml.tokens", tokenizer.vocabSize() + " tokens for a model vocabulary of " + vocabSize);
        }
        return tokenizer;
    }

    private static int positiveInt(GgufFile gguf, String key, Integer fallback) {
        Object value = gguf.metadata().get(key);
        if (value == null) {
            if (fallback == null) {
                throw error(gguf, key, "missing");
            }
            return fallback;
        }
        if (!(value instanceof Long n) || n < 1 || n > Integer.MAX_VALUE) {
            throw error(gguf, key, "must be a positive integer, found " + value);
        }
        return (int) (long) n;
    }

    private static float positiveFloat(GgufFile gguf, String key, float fallback) {
        Object value = gguf.metadata().get(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof Number n) || !(n.floatValue() > 0) || Float.isInfinite(n.floatValue())) {
            throw error(gguf, key, "must be a positive number, found " + value);
        }
        return n.floatValue();
    }

    private static ModelFormatException error(GgufFile gguf, String key, String problem) {
        return new ModelFormatException(gguf.path(), "metadata '" + key + "'", problem);
    }
}
