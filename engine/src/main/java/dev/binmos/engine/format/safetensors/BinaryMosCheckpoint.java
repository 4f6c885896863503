package dev.binmos.engine.format.safetensors;

import dev.binmos.engine.binarymos.BinaryMosLinear;
import dev.binmos.engine.binarymos.PackedSigns;
import dev.binmos.engine.format.LlamaTensors;
import dev.binmos.engine.format.LlamaTensors.Part;
import dev.binmos.engine.linear.Linear;
import dev.binmos.engine.tensor.FloatTensor;
import java.nio.file.Path;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The block linears of an official BinaryMoS checkpoint (github dongwonjo/BinaryMoS): for a linear whose
 * latent weights are {@code P.weight} [out, in], the router is {@code P.gate_linear.weight} [E, in] and the
 * scales {@code P.in_channel_scale} [E, in] and {@code P.out_channel_scale} [E, out]. Only sign(weight) is
 * kept (sign(0) = +1). A row order (q and k: rotate-half to interleaved RoPE) moves the sign rows and the
 * S_out columns together, since S_out scales output rows.
 */
final class BinaryMosCheckpoint implements LlamaTensors.BlockLinears {
    private static final String WEIGHT = ".weight";

    private final Function<String, LlamaTensors.Found> lookup;
    private final Path dir;
    private final int experts;
    private final BiFunction<Integer, Part, String> weightName;

    BinaryMosCheckpoint(Function<String, LlamaTensors.Found> lookup, Path dir, int experts, BiFunction<Integer, Part, String> weightName) {
        this.lookup = lookup;
        this.dir = dir;
        this.experts = experts;
        this.weightName = weightName;
    }

    @Override
    public Linear linear(int layer, Part part, int out, int in, int[] rowOrder) {
        String weight = weightName.apply(layer, part);
        String base = weight.substring(0, weight.length() - WEIGHT.length());
        FloatTensor latent = LlamaTensors.require(lookup, dir, weight, out, in);
        float[] w = new float[Math.multiplyExact(out, in)];
        for (int o = 0; o < out; o++) {
            latent.copyTo((long) stored(rowOrder, o) * in, w, o * in, in);
        }
        float[] router = LlamaTensors.require(lookup, dir, base + ".gate_linear.weight", experts, in).toFloatArray();
        float[] sIn = LlamaTensors.require(lookup, dir, base + ".in_channel_scale", experts, in).toFloatArray();
        float[] storedSOut = LlamaTensors.require(lookup, dir, base + ".out_channel_scale", experts, out).toFloatArray();
        float[] sOut = new float[storedSOut.length];
        for (int e = 0; e < experts; e++) {
            for (int o = 0; o < out; o++) {
                sOut[e * out + o] = storedSOut[e * out + stored(rowOrder, o)];
            }
        }
        return new BinaryMosLinear(PackedSigns.pack(w, out, in), router, sIn, sOut, experts);
    }

    private static int stored(int[] rowOrder, int row) {
        return rowOrder == null ? row : rowOrder[row];
    }
}
