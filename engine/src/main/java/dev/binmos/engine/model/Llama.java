package dev.binmos.engine.model;

import dev.binmos.engine.tokenizer.Tokenizer;

/** A loaded Llama-family model: hyper-parameters, tokenizer and weights. */
public record Llama(Configuration config, Tokenizer tokenizer, Weights weights, ModelSource source) {
}
