package dev.binmos.engine.binarymos;

import dev.binmos.engine.util.Buffers;

/**
 * A tile's output scales, ŝ_out = g·S_out per token, made where a kernel scales its finished rows: each
 * thread for its own rows only. For a 32-token tile of an 11008-row product, they had been written out
 * before the product and read back after it (1.4 MB, out of L2 by then); made here, the 7B products ran
 * 1.01–1.07× faster for 64 tokens and 1.05–1.11× for one (bench/ab, 2 threads).
 *
 * @param gates g of the tile's tokens, [t · E + e]
 * @param rows  S_in then S_out as floats ({@link MixtureScales#rows})
 */
record OutScales(MixtureScales scales, float[] gates, float[] rows) {
    private static final ThreadLocal<float[]> TOKENS_BY_ROWS = ThreadLocal.withInitial(() -> new float[0]);

    /** dst[at + o − from] = ŝ_out[o] of token t, for o in [from, to). */
    void fill(int t, int from, int to, float[] dst, int at) {
        scales.outScales(gates, t * scales.experts(), rows, from, to, dst, at);
    }

    /**
     * ŝ_out of the tokens t &lt; tokens and the rows [from, to) at [t · out + o] of a per-thread buffer (the
     * other rows hold whatever they held), for the kernels that scale row by row.
     */
    float[] forRows(int tokens, int out, int from, int to) {
        float[] sHat = Buffers.grown(TOKENS_BY_ROWS.get(), tokens * out);
        TOKENS_BY_ROWS.set(sHat);
        for (int t = 0; t < tokens; t++) {
            fill(t, from, to, sHat, t * out + from);
        }
        return sHat;
    }
}
