package dev.binmos.engine.format;

import dev.binmos.engine.TestData;
import dev.binmos.engine.backend.Backend;
import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.linear.DenseLinear;
import dev.binmos.engine.linear.Linear;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.LayerWeights;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.model.Weights;
import dev.binmos.engine.tensor.ArrayTensor;
import dev.binmos.engine.tensor.GgmlType;
import dev.binmos.engine.tensor.Tensors;
import dev.binmos.engine.util.Parallel;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The stories260K test model as named tensors (GGUF names, interleaved RoPE layout, shapes outermost
 * first), for writing it in other formats, and logits to compare the loaded results by.
 */
public final class Stories260K {
    /** A prompt's worth of token ids inside the 512-token vocabulary, BOS first. */
    public static final int[] TOKENS = {1, 365, 301, 263, 281, 511, 3, 17, 400, 260, 289};

    public record Named(String name, long[] shape, float[] values) {
        public int rowLength() {
            return (int) shape[shape.length - 1];
        }
    }

    private Stories260K() {
    }

    public static Path tokenizer() {
        return TestData.shared("models/tok512.bin");
    }

    public static Llama llama2c() {
        return Llama2cLoader.load(TestData.shared("models/stories260K.bin"), tokenizer());
    }

    /** The model's tensors by GGUF name; the classifier is shared with the embeddings, so not listed. */
    public static Map<String, Named> tensors(Llama model) {
        Configuration c = model.config();
        Weights w = model.weights();
        Map<String, Named> out = new LinkedHashMap<>();
        add(out, "token_embd.weight", w.tokenEmbeddings().toFloatArray(), c.vocabSize(), c.dim());
        for (int l = 0; l < c.layers(); l++) {
            LayerWeights layer = w.layers()[l];
            String p = "blk." + l + ".";
            add(out, p + "attn_norm.weight", layer.attnNorm(), c.dim());
            add(out, p + "attn_q.weight", layer.q());
            add(out, p + "attn_k.weight", layer.k());
            add(out, p + "attn_v.weight", layer.v());
            add(out, p + "attn_output.weight", layer.o());
            add(out, p + "ffn_norm.weight", layer.ffnNorm(), c.dim());
            add(out, p + "ffn_gate.weight", layer.gate());
            add(out, p + "ffn_up.weight", layer.up());
            add(out, p + "ffn_down.weight", layer.down());
        }
        add(out, "output_norm.weight", w.finalNorm(), c.dim());
        return out;
    }

    private static void add(Map<String, Named> out, String name, Linear linear) {
        add(out, name, ((DenseLinear) linear).weights().toFloatArray(), linear.outFeatures(), linear.inFeatures());
    }

    private static void add(Map<String, Named> out, String name, float[] values, long... shape) {
        out.put(name, new Named(name, shape, values));
    }

    /** values as stored in type and read back: what a file of that type holds. */
    public static float[] roundTrip(GgmlType type, float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate((int) type.byteSize(values.length)).order(ByteOrder.LITTLE_ENDIAN);
        Tensors.encode(type, values, 0, values.length, bytes);
        return Tensors.view(type, MemorySegment.ofArray(bytes.array()), values.length).toFloatArray();
    }

    /** The model with every tensor replaced by F32 copies of {@code values(tensor)}, classifier shared. */
    public static Llama withValues(Llama base, Function<Named, float[]> values) {
        Configuration c = base.config();
        Map<String, Named> t = tensors(base);
        Function<String, float[]> v = name -> values.apply(t.get(name));
        Function<String, Linear> linear = name -> new DenseLinear(new ArrayTensor(v.apply(name)),
                (int) t.get(name).shape()[0], (int) t.get(name).shape()[1]);
        ArrayTensor embeddings = new ArrayTensor(v.apply("token_embd.weight"));
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            String p = "blk." + l + ".";
            layers.add(new LayerWeights(v.apply(p + "attn_norm.weight"), linear.apply(p + "attn_q.weight"),
                    linear.apply(p + "attn_k.weight"), linear.apply(p + "attn_v.weight"), linear.apply(p + "attn_output.weight"),
                    v.apply(p + "ffn_norm.weight"), linear.apply(p + "ffn_gate.weight"), linear.apply(p + "ffn_up.weight"),
                    linear.apply(p + "ffn_down.weight")));
        }
        Weights weights = new Weights(embeddings, layers.toArray(LayerWeights[]::new), v.apply("output_norm.weight"),
                new DenseLinear(embeddings, c.vocabSize(), c.dim()));
        return new Llama(c, base.tokenizer(), weights, base.source());
    }

    /** Logits of every position of {@link #TOKENS}. */
    public static float[] logits(Llama model) {
        try (Backend backend = new CpuBackend(model, new Parallel(1))) {
            Session session = backend.openSession("test", TOKENS.length);
            return backend.forwardAll(session, TOKENS, 0);
        }
    }

    /** Fails unless the logits agree to 1e-5 relative error. */
    public static void assertLogitsClose(float[] expected, float[] actual, String what) {
        double error = relativeError(actual, expected);
        if (!(error <= 1e-5)) {
            throw new AssertionError(what + ": relative logit error " + error + " exceeds 1e-5");
        }
    }

    /** max |actual − expected| / max |expected|. */
    public static double relativeError(float[] actual, float[] expected) {
        if (actual.length != expected.length) {
            throw new AssertionError(actual.length + " logits, expected " + expected.length);
        }
        double maxDiff = 0;
        double maxExpected = 0;
        for (int i = 0; i < expected.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
            maxExpected = Math.max(maxExpected, Math.abs(expected[i]));
        }
        return maxDiff / maxExpected;
    }
}
