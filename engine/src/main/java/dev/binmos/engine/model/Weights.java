package dev.binmos.engine.model;

import dev.binmos.engine.linear.DenseLinear;
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

    /**
     * Gives back the pages of the embedding rows read so far: each row is read once per token, but the
     * kernel maps the 64 KB or more around it (fault-around), 43 MiB resident after 640 tokens of a 7B
     * model. Not when the classifier is the embedding table, which every token reads whole.
     */
    public void releaseEmbeddingPages() {
        if (!(classifier instanceof DenseLinear dense && dense.weights() == tokenEmbeddings)) {
            tokenEmbeddings.releasePages();
        }
    }
}
