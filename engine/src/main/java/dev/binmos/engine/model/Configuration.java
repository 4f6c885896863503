package dev.binmos.engine.model;

/**
 * Llama hyper-parameters.
 *
 * @param contextLength maximum positions a session may hold
 * @param ropeTheta     RoPE frequency base (10000 for Llama 2, 500000 for Llama 3)
 * @param normEps       RMSNorm epsilon
 */
public record Configuration(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocabSize,
                            int contextLength, float ropeTheta, float normEps) {

    public Configuration {
        require(dim > 0, "dim", dim);
        require(hiddenDim > 0, "hidden dim", hiddenDim);
        require(layers > 0, "layers", layers);
        require(heads > 0 && dim % heads == 0, "heads (must divide dim " + dim + ")", heads);
        require(kvHeads > 0 && heads % kvHeads == 0, "kv heads (must divide heads " + heads + ")", kvHeads);
        require(vocabSize > 0, "vocab size", vocabSize);
        require(contextLength > 0, "context length", contextLength);
        require((dim / heads) % 2 == 0, "head size (must be even for RoPE)", dim / heads);
        if (!(ropeTheta > 0) || !(normEps > 0)) {
            throw new IllegalArgumentException("rope theta and norm epsilon must be positive, got " + ropeTheta + " and " + normEps);
        }
    }

    private static void require(boolean ok, String what, int value) {
        if (!ok) {
            throw new IllegalArgumentException("invalid " + what + ": " + value);
        }
    }

    public int headSize() {
        return dim / heads;
    }

    public int kvDim() {
        return kvHeads * headSize();
    }

    /** Query heads that share one key/value head. */
    public int groupSize() {
        return heads / kvHeads;
    }
}
