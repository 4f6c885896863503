package dev.binmos.engine.generate;

/**
 * The outcome of one generation.
 *
 * @param tokens       generated token ids, without the prompt (a stop token is not included)
 * @param text         their text, cut before a stop string
 * @param promptTokens prompt length in tokens (with BOS)
 */
public record Completion(int[] tokens, String text, FinishReason finishReason, int promptTokens) {
}
