package dev.binmos.engine.format.gguf;

import dev.binmos.engine.format.LlamaTensors;
import dev.binmos.engine.format.RowSource;
import dev.binmos.engine.linear.DenseLinear;
import dev.binmos.engine.linear.Linear;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.LayerWeights;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.model.Weights;
import dev.binmos.engine.tensor.FloatTensor;
import dev.binmos.engine.tensor.GgmlType;
import java.util.function.Supplier;

/**
 * A loaded model with dense weights (a llama2.c checkpoint, a Hugging Face directory) as GGUF, every tensor
 * in its own storage type and in the interleaved RoPE layout the forward pass uses. GGUF models are
 * copied with {@link GgufEdit} instead, which keeps their bytes.
 */
public final class GgufExport {
    private GgufExport() {
    }

    /** A writer holding the model's metadata and tensors; the caller may add metadata, then writes it. */
    public static GgufWriter writer(Llama model) {
        Configuration c = model.config();
        Weights w = model.weights();
        String file = model.source().path().getFileName().toString();
        GgufWriter out = GgufModel.writer(c, model.tokenizer(),
                String.valueOf(model.source().metadata().getOrDefault("general.name", file.replaceFirst("\\.[^.]*$", ""))));
        FloatTensor embeddings = w.tokenEmbeddings();
        out.addTensor(GgufModel.embeddingsName(), embeddings.type(), new long[] {c.vocabSize(), c.dim()},
                (row, values) -> embeddings.copyTo(row * c.dim(), values, 0, c.dim()));
        for (int l = 0; l < c.layers(); l++) {
            LayerWeights layer = w.layers()[l];
            for (LlamaTensors.Part part : LlamaTensors.Part.values()) {
                String name = GgufModel.tensorName(l, part);
                switch (part) {
                    case ATTN_NORM -> out.addTensor(name, GgmlType.F32, new long[] {c.dim()}, layer.attnNorm());
                    case FFN_NORM -> out.addTensor(name, GgmlType.F32, new long[] {c.dim()}, layer.ffnNorm());
                    default -> addLinear(out, name, LlamaTensors.linear(layer, part));
                }
            }
        }
        out.addTensor(GgufModel.finalNormName(), GgmlType.F32, new long[] {c.dim()}, w.finalNorm());
        if (dense(w.classifier(), GgufModel.classifierName()).weights() != embeddings) {
            addLinear(out, GgufModel.classifierName(), w.classifier());
        }
        return out;
    }

    private static void addLinear(GgufWriter out, String name, Linear linear) {
        DenseLinear dense = dense(linear, name);
        out.addTensor(name, dense.weights().type(), new long[] {linear.outFeatures(), linear.inFeatures()}, oneAtATime(dense::toFloatArray));
    }

    private static DenseLinear dense(Linear linear, String name) {
        if (!(linear instanceof DenseLinear dense)) {
            throw new IllegalArgumentException(name + " is a " + linear.getClass().getSimpleName()
                    + ", not dense weights: only GGUF files of such models can be copied with new metadata");
        }
        return dense;
    }

    /** Rows of values made when the first row is asked for and dropped after the last: one tensor in memory at a time. */
    private static RowSource oneAtATime(Supplier<float[]> values) {
        float[][] held = new float[1][];
        return (row, out) -> {
            if (row == 0) {
                held[0] = values.get();
            }
            System.arraycopy(held[0], Math.toIntExact(row * out.length), out, 0, out.length);
            if ((row + 1) * out.length == held[0].length) {
                held[0] = null;
            }
        };
    }
}
