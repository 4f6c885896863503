package dev.binmos.engine.model;

import dev.binmos.engine.linear.Linear;
import dev.binmos.engine.tensor.FloatTensor;

/**
 * All weights of a Llama model. Tensors stay where the loader found them (memory-mapped): nothing is
 * read until a forward pass touches it, so a worker that only runs some layers pages in only those.
 *
 * @param tokenEmbeddings [vocab, dim]
 * @param classifier      lm_head [vocab, dim], the embedding table itself when shared
 */
public record Weights(FloatTensor tokenEmbeddings, LayerWeights[] layers, float[] finalNorm, Linear classifier) {
}
