package dev.binmos.engine.binarymos;

import dev.binmos.engine.format.LlamaTensors;
import dev.binmos.engine.format.LlamaTensors.Part;
import dev.binmos.engine.format.gguf.BinaryMosGguf;
import dev.binmos.engine.linear.DenseLinear;
import dev.binmos.engine.linear.Linear;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.tensor.GgmlType;
import dev.binmos.engine.util.ProgressListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Turns a dense Llama into the initial BinaryMoS model of the paper: every block linear keeps sign(W),
 * and every expert starts from the rank-1 SVD of |W| (S_out = a, S_in = b), so until training moves the
 * experts apart the model equals the single-scale one whatever its routers say.
 */
public final class Binarizer {
    private Binarizer() {
    }

    /** The initial BinaryMoS layer of a row-major [out, in] weight matrix. */
    public static BinaryMosLinear binarize(float[] w, int out, int in, int experts, long routerSeed) {
        ScaleInit.Rank1 rank1 = ScaleInit.rank1Abs(w, out, in);
        return new BinaryMosLinear(PackedSigns.pack(w, out, in), ScaleInit.router(experts, in, routerSeed),
                repeat(rank1.b(), experts), repeat(rank1.a(), experts), experts);
    }

    /** A distinct router seed for every linear of the model, all fixed by {@code seed}. */
    public static long routerSeed(long seed, int layer, Part part) {
        return new SplittableRandom(seed ^ (layer * 0x9E3779B97F4A7C15L + part.ordinal() * 0xBF58476D1CE4E5B9L)).nextLong();
    }

    /**
     * Writes the binarized {@code model} as a BinaryMoS GGUF (docs/FORMAT.md), one linear at a time.
     * Embeddings, norms and classifier keep their storage types.
     *
     * @param scaleType storage of routers and scales (F32 keeps the SVD values exactly)
     * @param progress  told of linears done out of all
     */
    public static void write(Llama model, int experts, long seed, String name, GgmlType scaleType, Path file,
                             ProgressListener progress) throws IOException {
        BinaryMosGguf.write(model, experts, (layer, part) -> {
            Linear linear = LlamaTensors.linear(model.weights().layers()[layer], part);
            if (!(linear instanceof DenseLinear dense)) {
                throw new IllegalArgumentException("linear " + part + " of layer " + layer + " is not dense ("
                        + linear.getClass().getSimpleName() + "): binarize reads full-precision models");
            }
            return binarize(dense.toFloatArray(), dense.outFeatures(), dense.inFeatures(), experts, routerSeed(seed, layer, part));
        }, name, scaleType, file, progress);
    }

    /**
     * Writes a model whose block linears are BinaryMoS already (an imported checkpoint) as a BinaryMoS
     * GGUF, with its own routers and scales.
     */
    public static void writeBinaryMos(Llama model, String name, GgmlType scaleType, Path file, ProgressListener progress) throws IOException {
        if (!(model.weights().layers()[0].q() instanceof BinaryMosLinear first)) {
            throw new IllegalArgumentException("the model's linears are not BinaryMoS layers");
        }
        BinaryMosGguf.write(model, first.experts(), (layer, part) -> {
            Linear linear = LlamaTensors.linear(model.weights().layers()[layer], part);
            if (!(linear instanceof BinaryMosLinear binaryMos)) {
                throw new IllegalArgumentException("linear " + part + " of layer " + layer + " is not a BinaryMoS layer");
            }
            return binaryMos;
        }, name, scaleType, file, progress);
    }

    private static float[] repeat(float[] values, int times) {
        float[] out = new float[values.length * times];
        for (int e = 0; e < times; e++) {
            System.arraycopy(values, 0, out, e * values.length, values.length);
        }
        return out;
    }
}
