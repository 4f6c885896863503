package dev.binmos.engine.linear;

import dev.binmos.engine.util.Parallel;

/**
 * y = x · Wᵀ for a batch of tokens. One implementation per weight format (dense tensors of any storage
 * type, BinaryMoS, …): the forward pass calls this and never asks which format it holds.
 */
public interface Linear {

    int inFeatures();

    int outFeatures();

    /**
     * For each of {@code tokens} rows: y[t·out + o] = Σ_i W[o, i] · x[t·in + i].
     * Implementations read each weight row once for all tokens where they can.
     */
    void apply(float[] x, float[] y, int tokens, Parallel parallel);

    /**
     * Tokens one pass over the weights serves: rows of a batch split between threads in multiples of it
     * read no more weights than the whole batch in one call. Unbounded where each weight row is read once
     * for all tokens.
     */
    default int tokensPerPass() {
        return Integer.MAX_VALUE;
    }

    /** Bytes of weights this linear reads per forward (its storage size). */
    long weightBytes();
}
