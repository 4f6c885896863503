package dev.binmos.engine.generate;

import dev.binmos.engine.sampling.SamplingParams;
import java.util.List;

/**
 * What to generate.
 *
 * @param maxTokens tokens to generate at most (the context length may end it sooner)
 * @param stop      strings that end the generation; the text is cut before the first one
 */
public record Generation(int maxTokens, SamplingParams sampling, List<String> stop) {

    public Generation {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("max tokens must not be negative, got " + maxTokens);
        }
        stop = List.copyOf(stop);
        for (String s : stop) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    public static Generation greedy(int maxTokens) {
        return new Generation(maxTokens, SamplingParams.greedy(), List.of());
    }
}
