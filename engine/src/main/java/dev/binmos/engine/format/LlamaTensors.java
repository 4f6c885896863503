package dev.binmos.engine.format;

import dev.binmos.engine.linear.DenseLinear;
import dev.binmos.engine.linear.Linear;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.LayerWeights;
import dev.binmos.engine.model.Weights;
import dev.binmos.engine.tensor.FloatTensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Assembles Llama {@link Weights} from the named tensors of a file, checking every shape against the
 * configuration. Weights stay where the file has them; only the small norm vectors are copied.
 */
public final class LlamaTensors {

    /** The tensors of one decoder block. */
    public enum Part {
        ATTN_NORM, Q, K, V, O, FFN_NORM, GATE, UP, DOWN;

        private static final List<Part> LINEARS = List.of(Q, K, V, O, GATE, UP, DOWN);

        /** The parts that are linears, in the order of {@link LayerWeights#linears()}. */
        public static List<Part> linears() {
            return LINEARS;
        }
    }

    /** What a file calls each tensor. {@code classifier} null: the classifier is the embedding table. */
    public record Names(String embeddings, BiFunction<Integer, Part, String> layer, String finalNorm, String classifier) {
    }

    /** A tensor found in a file, with its shape outermost first and the file holding it (for messages). */
    public record Found(FloatTensor tensor, long[] shape, Path file) {
    }

    /** Builds the decoder-block linears of a file: dense weight tensors by default, BinaryMoS tensor groups, … */
    @FunctionalInterface
    public interface BlockLinears {
        /**
         * The linear of {@code part} in {@code layer}, of logical shape [out, in].
         *
         * @param rowOrder null, or the order of stored rows that gives the interleaved RoPE layout (q and k
         *                 of Hugging Face checkpoints; see {@link #rotateHalfToInterleaved})
         */
        Linear linear(int layer, Part part, int out, int in, int[] rowOrder);
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
        return assemble(c, names, lookup, file, rotateHalfQK, (layer, part, out, in, rowOrder) ->
                new DenseLinear(require(lookup, file, names.layer().apply(layer, part), out, in), out, in, rowOrder));
    }

    /**
     * As above, with the block linears built by {@code linears}; embeddings, norms and the classifier are
     * still the named tensors.
     */
    public static Weights assemble(Configuration c, Names names, Function<String, Found> lookup, Path file, boolean rotateHalfQK,
                                   BlockLinears linears) {
        int dim = c.dim();
        FloatTensor embeddings = require(lookup, file, names.embeddings(), c.vocabSize(), dim);
        int[] qRows = rotateHalfQK ? rotateHalfToInterleaved(c.heads(), c.headSize()) : null;
        int[] kRows = rotateHalfQK ? rotateHalfToInterleaved(c.kvHeads(), c.headSize()) : null;
        LayerWeights[] layers = new LayerWeights[c.layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new LayerWeights(
                    require(lookup, file, names.layer().apply(l, Part.ATTN_NORM), dim).toFloatArray(),
                    linears.linear(l, Part.Q, dim, dim, qRows),
                    linears.linear(l, Part.K, c.kvDim(), dim, kRows),
                    linears.linear(l, Part.V, c.kvDim(), dim, null),
                    linears.linear(l, Part.O, dim, dim, null),
                    require(lookup, file, names.layer().apply(l, Part.FFN_NORM), dim).toFloatArray(),
                    linears.linear(l, Part.GATE, c.hiddenDim(), dim, null),
                    linears.linear(l, Part.UP, c.hiddenDim(), dim, null),
                    linears.linear(l, Part.DOWN, dim, c.hiddenDim(), null));
        }
        float[] finalNorm = require(lookup, file, names.finalNorm(), dim).toFloatArray();
        Linear classifier = new DenseLinear(names.classifier() == null ? embeddings
                : require(lookup, file, names.classifier(), c.vocabSize(), dim), c.vocabSize(), dim);
        return new Weights(embeddings, layers, finalNorm, classifier);
    }

    /** The linear of a block for a linear part (q, k, v, o, gate, up, down). */
    public static Linear linear(LayerWeights layer, Part part) {
        int index = Part.linears().indexOf(part);
        if (index < 0) {
            throw new IllegalArgumentException(part + " is not a linear");
        }
        return layer.linears()[index];
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

    /**
     * The tensor called name, checked to have {@code shape} (outermost first).
     *
     * @throws ModelFormatException naming the file and tensor when it is missing or shaped otherwise
     */
    public static FloatTensor require(Function<String, Found> lookup, Path file, String name, long... shape) {
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
