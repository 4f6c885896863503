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

    /** Bytes of weights this linear reads per forward (its storage size). */
    long weightBytes();
}
