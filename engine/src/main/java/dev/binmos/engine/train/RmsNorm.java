package dev.binmos.engine.train;

/** RMSNorm y = w ⊙ x · r with r = 1/√(mean(x²) + eps), per token; the weight w is frozen. */
final class RmsNorm {
    private RmsNorm() {
    }

    /** y [tokens, dim] and the per-token r [tokens] that backward needs. */
    static void forward(float[] x, float[] w, float eps, int tokens, float[] y, float[] r) {
        int dim = w.length;
        for (int t = 0; t < tokens; t++) {
            int base = t * dim;
            float ss = 0f;
            for (int i = 0; i < dim; i++) {
                ss += x[base + i] * x[base + i];
            }
            float rt = 1.0f / (float) Math.sqrt(ss / dim + eps);
            r[t] = rt;
            for (int i = 0; i < dim; i++) {
                y[base + i] = w[i] * (rt * x[base + i]);
            }
        }
    }

    /** dx += r·(w ⊙ dy) − r³/dim · x · Σ(w ⊙ dy ⊙ x). */
    static void backward(float[] dy, float[] x, float[] w, float[] r, int tokens, float[] dx) {
        int dim = w.length;
        for (int t = 0; t < tokens; t++) {
            int base = t * dim;
            float dot = 0f;
            for (int i = 0; i < dim; i++) {
                dot += w[i] * dy[base + i] * x[base + i];
            }
            float rt = r[t];
            float c = rt * rt * rt * dot / dim;
            for (int i = 0; i < dim; i++) {
                dx[base + i] += rt * w[i] * dy[base + i] - c * x[base + i];
            }
        }
    }
}
