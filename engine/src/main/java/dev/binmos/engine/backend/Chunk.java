package dev.binmos.engine.backend;

/**
 * Consecutive tokens of one session in a batched step: positions [startPos, startPos + tokens). A step
 * may hold chunks of many sessions (decode tokens and prefill chunks side by side); their hidden
 * states are stacked in chunk order.
 */
public record Chunk(Session session, int startPos, int tokens) {
    public Chunk {
        if (tokens < 1) {
            throw new IllegalArgumentException("a chunk needs at least one token, got " + tokens);
        }
        if (startPos < 0) {
            throw new IllegalArgumentException("start position must not be negative, got " + startPos);
        }
    }
}
