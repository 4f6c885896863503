package dev.binmos.engine.train;

/**
 * The trainable parameters of one BinaryMoS linear, all row-major fp32: the real-valued latent weights
 * [out, in] (the forward pass sees only their signs), the router W_R [experts, in] and the expert scales
 * S_in [experts, in] and S_out [experts, out]. The same shape holds gradients and AdamW moments.
 */
record MosWeights(int out, int in, int experts, float[] latent, float[] router, float[] sIn, float[] sOut) {

    MosWeights {
        if (latent.length != out * in || router.length != experts * in || sIn.length != experts * in
                || sOut.length != experts * out) {
            throw new IllegalArgumentException("BinaryMoS arrays do not match [" + out + ", " + in + "] with " + experts + " experts");
        }
    }

    static MosWeights zeros(int out, int in, int experts) {
        return new MosWeights(out, in, experts, new float[out * in], new float[experts * in],
                new float[experts * in], new float[experts * out]);
    }

    MosWeights zerosLike() {
        return zeros(out, in, experts);
    }

    /** The four arrays in a fixed order (checkpoints and the optimizer walk them in this order). */
    float[][] arrays() {
        return new float[][] {latent, router, sIn, sOut};
    }
}
