package dev.binmos.engine.backend;

/**
 * Executes a model on one device (CPU, CUDA, …). A pipeline stage runs {@link #forwardLayers} over its
 * layer range; a single process runs {@link #forward}, which is embed → all layers → logits.
 */
public interface Backend extends AutoCloseable {

    /** A new session with room for {@code capacity} positions. */
    Session openSession(String id, int capacity);

    /** Token embeddings of {@code tokens} into hidden [tokens.length · dim]. */
    void embed(int[] tokens, float[] hidden);

    /**
     * Runs layers [fromLayer, toLayer) in place on hidden [Σ tokens · dim]: the stacked rows of every
     * chunk, each at its session's positions. Every weight is read once for the whole batch.
     */
    void forwardLayers(java.util.List<Chunk> batch, float[] hidden, int fromLayer, int toLayer);

    /** Final norm and classifier for the last {@code count} of the {@code tokens} rows of hidden: logits [count · vocab]. */
    float[] logits(float[] hidden, int tokens, int count);

    /** Runs tokens at positions [startPos, …) and returns the logits of the last one. */
    float[] forward(Session session, int[] tokens, int startPos);

    /** As {@link #forward}, but returns the logits of every token: [tokens.length · vocab]. */
    float[] forwardAll(Session session, int[] tokens, int startPos);

    @Override
    void close();
}
