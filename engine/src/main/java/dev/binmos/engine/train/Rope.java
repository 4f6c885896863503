package dev.binmos.engine.train;

/**
 * Rotary position embedding in the interleaved layout of the inference pass: pair (2i, 2i+1) of every
 * head turns by pos · θ^(−2i/headSize). Angles are computed exactly as {@code CpuBackend} does so the
 * trained student sees the positions inference will give it.
 */
final class Rope {
    private final int headSize;
    private final float[] cos;
    private final float[] sin;

    /** Tables for positions [0, positions). */
    Rope(int headSize, float theta, int positions) {
        this.headSize = headSize;
        int pairs = headSize / 2;
        this.cos = new float[positions * pairs];
        this.sin = new float[positions * pairs];
        for (int i = 0; i < headSize; i += 2) {
            float freq = 1.0f / (float) Math.pow(theta, i / (float) headSize);
            for (int pos = 0; pos < positions; pos++) {
                float angle = pos * freq;
                cos[pos * pairs + i / 2] = (float) Math.cos(angle);
                sin[pos * pairs + i / 2] = (float) Math.sin(angle);
            }
        }
    }

    /** Rotates rows [tokens, width] in place, row t at position t. */
    void forward(float[] v, int tokens, int width) {
        rotate(v, tokens, width, 1f);
    }

    /** The gradient through a rotation is the inverse rotation. */
    void backward(float[] dv, int tokens, int width) {
        rotate(dv, tokens, width, -1f);
    }

    private void rotate(float[] v, int tokens, int width, float direction) {
        int pairs = headSize / 2;
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < width; i += 2) {
                int p = t * pairs + (i % headSize) / 2;
                float c = cos[p];
                float s = direction * sin[p];
                int at = t * width + i;
                float v0 = v[at];
                float v1 = v[at + 1];
                v[at] = v0 * c - v1 * s;
                v[at + 1] = v0 * s + v1 * c;
            }
        }
    }
}
