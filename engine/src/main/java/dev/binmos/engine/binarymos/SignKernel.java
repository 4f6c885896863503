package dev.binmos.engine.binarymos;

/**
 * The ±1 matrix product at the heart of a BinaryMoS linear: y[t, o] = ŝ_out[t, o] · Σ_c sign(o, c) · xs[t, c]
 * for a tile of tokens, where xs = x ⊙ ŝ_in is already computed and zero-padded to whole 64-column words.
 */
sealed interface SignKernel permits LutKernel, MaskedKernel {

    /**
     * Per-token data derived once from xs ({@code tokens} rows of {@code paddedIn} floats) and shared by
     * all threads: LUT tables, or xs itself.
     */
    float[] prepare(float[] xs, int tokens, int paddedIn);

    /**
     * Rows [rowFrom, rowTo) of every token: y[yOff + t · out + o], out = signs.rows(). The output scale
     * ŝ_out is applied to each row as it is finished.
     */
    void multiply(PackedSigns signs, float[] prepared, int tokens, MixtureScales scales, float[] gates,
                  float[] y, int yOff, int rowFrom, int rowTo);

    /** Rows per unit of work: thread chunks start at multiples of this. */
    int rowBlock();
}
