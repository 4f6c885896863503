package dev.binmos.engine.format;

import dev.binmos.engine.linear.DenseLinear;
import dev.binmos.engine.linear.Linear;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.LayerWeights;
import dev.binmos.engine.model.Weights;
import dev.binmos.engine.tensor.FloatTensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Assembles Llama {@link Weights} from the named tensors of a file, checking every shape against the
 * configuration. Weights stay where the file has them; only the small norm vectors are copied.
 */
public final class LlamaTensors {

    /** The tensors of one decoder block. */
    public enum Part { ATTN_NORM, Q, K, V, O, FFN_NORM, GATE, UP, DOWN }

    /** What a file calls each tensor. {@code classifier} null: the classifier is the embedding table. */
    public record Names(String embeddings, BiFunction<Integer, Part, String> layer, String finalNorm, String classifier) {
    }

    /** A tensor found in a file, with its shape outermost first and the file holding it (for messages). */
    public record Found(FloatTensor tensor, long[] shape, Path file) {
    }

    private LlamaTensors() {
    }

    /**
     * @param file         named in messages about missing tensors
     * @param lookup       the tensor of a name, or null when the file has none
     * @param rotateHalfQK true for Hugging Face checkpoints, whose q/k rows are in the rotate-half RoPE
     *                     layout: read them through a row order giving the interleaved layout
     */
    public static Weights assemble(Configuration c, Names names, Function<String, Found> lookup, Path file, boolean rotateHalfQK) {
        int dim = c.dim();
        FloatTensor embeddings = require(lookup, file, names.embeddings(), c.vocabSize(), dim);
        int[] qRows = rotateHalfQK ? rotateHalfToInterleaved(c.heads(), c.headSize()) : null;
        int[] kRows = rotateHalfQK ? rotateHalfToInterleaved(c.kvHeads(), c.headSize()) : null;
        LayerWeights[] layers = new LayerWeights[c.layers()];
        for (int l = 0; l < layers.length; l++) {
            int layer = l;
            Function<Part, String> name = part -> names.layer().apply(layer, part);
            layers[l] = new LayerWeights(
                    require(lookup, file, name.apply(Part.ATTN_NORM), dim).toFloatArray(),
                    linear(lookup, file, name.apply(Part.Q), dim, dim, qRows),
                    linear(lookup, file, name.apply(Part.K), c.kvDim(), dim, kRows),
                    linear(lookup, file, name.apply(Part.V), c.kvDim(), dim, null),
                    linear(lookup, file, name.apply(Part.O), dim, dim, null),
                    require(lookup, file, name.apply(Part.FFN_NORM), dim).toFloatArray(),
                    linear(lookup, file, name.apply(Part.GATE), c.hiddenDim(), dim, null),
                    linear(lookup, file, name.apply(Part.UP), c.hiddenDim(), dim, null),
                    linear(lookup, file, name.apply(Part.DOWN), dim, c.hiddenDim(), null));
        }
        float[] finalNorm = require(lookup, file, names.finalNorm(), dim).toFloatArray();
        Linear classifier = names.classifier() == null
                ? new DenseLinear(embeddings, c.vocabSize(), dim)
                : linear(lookup, file, names.classifier(), c.vocabSize(), dim, null);
        return new Weights(embeddings, layers, finalNorm, classifier);
    }

    /**
     * Row order that reads a rotate-half q or k projection in the interleaved layout: for head h, logical
     * row h·hs + 2i + half is stored row h·hs + half·hs/2 + i.
     */
    public static int[] rotateHalfToInterleaved(int heads, int headSize) {
        int[] order = new int[heads * headSize];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < headSize / 2; i++) {
                for (int half = 0; half < 2; half++) {
                    order[h * headSize + 2 * i + half] = h * headSize + half * headSize / 2 + i;
                }
            }
        }
        return order;
    }

    private static Linear linear(Function<String, Found> lookup, Path file, String name, int out, int in, int[] rowOrder) {
        return new DenseLinear(require(lookup, file, name, out, in), out, in, rowOrder);
    }

    private static FloatTensor require(Function<String, Found> lookup, Path file, String name, long... shape) {
        Found found = lookup.apply(name);
        if (found == null) {
            throw new ModelFormatException(file, "tensor " + name, "missing");
        }
        if (!Arrays.equals(found.shape(), shape)) {
            throw new ModelFormatException(found.file(), "tensor " + name + " shape",
                    "expected " + Arrays.toString(shape) + " (outermost first) for the model's configuration, found " + Arrays.toString(found.shape()));
        }
        return found.tensor();
    }
}
