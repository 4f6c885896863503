package dev.binmos.engine.binarymos;

import java.lang.foreign.MemorySegment;

/**
 * The ±1 matrix product at the heart of a BinaryMoS linear: y[t, o] = ŝ_out[t, o] · Σ_c sign(o, c) · xs[t, c]
 * for a tile of tokens, where xs = x ⊙ ŝ_in is already computed and zero-padded to whole 64-column words.
 */
sealed interface SignKernel permits LutKernel, MaskedKernel {

    /**
     * Per-token data derived once from xs ({@code tokens} rows of {@code paddedIn} floats) and shared by
     * all threads: LUT tables (in reuse when it is large enough), or xs itself.
     */
    float[] prepare(float[] xs, int tokens, int paddedIn, float[] reuse);

    /**
     * The signs as this kernel reads them, made once per linear before its first product: the file's
     * row-major words themselves, or a layout of the kernel's own.
     */
    MemorySegment layout(PackedSigns signs);

    /**
     * Rows [rowFrom, rowTo) of every token: y[yOff + t · out + o], out = signs.rows(), from the signs in
     * {@link #layout}. Each finished row is multiplied by its output scale, ŝ_out[t, o] of outScales.
     */
    void multiply(PackedSigns signs, MemorySegment layout, float[] prepared, int tokens, OutScales outScales,
                  float[] y, int yOff, int rowFrom, int rowTo);

    /** Rows per unit of work: thread chunks start at multiples of this. */
    int rowBlock();
}
