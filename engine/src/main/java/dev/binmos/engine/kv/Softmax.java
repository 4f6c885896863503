package dev.binmos.engine.kv;

/** The one softmax every policy uses, so that equal logits give bit-for-bit equal probabilities. */
final class Softmax {
    private Softmax() {
    }

    /**
     * Replaces the logits in s[a0, a1) ∪ [b0, b1) (a policy's kept positions, e.g. sinks and window) by
     * their probabilities: exp(x − max) / Σ, summed in index order.
     */
    static void normalize(float[] s, int a0, int a1, int b0, int b1) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = a0; i < a1; i++) {
            max = Math.max(max, s[i]);
        }
        for (int i = b0; i < b1; i++) {
            max = Math.max(max, s[i]);
        }
        float sum = 0f;
        for (int i = a0; i < a1; i++) {
            s[i] = (float) Math.exp(s[i] - max);
            sum += s[i];
        }
        for (int i = b0; i < b1; i++) {
            s[i] = (float) Math.exp(s[i] - max);
            sum += s[i];
        }
        for (int i = a0; i < a1; i++) {
            s[i] = s[i] / sum;
        }
        for (int i = b0; i < b1; i++) {
            s[i] = s[i] / sum;
        }
    }
}
