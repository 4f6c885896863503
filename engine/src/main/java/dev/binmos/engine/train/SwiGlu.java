package dev.binmos.engine.train;

/** h = silu(a) ⊙ b, the gated activation between the gate/up and down projections. */
final class SwiGlu {
    private SwiGlu() {
    }

    static void forward(float[] a, float[] b, float[] h, int n) {
        for (int i = 0; i < n; i++) {
            float g = a[i];
            h[i] = g / (1.0f + (float) Math.exp(-g)) * b[i];
        }
    }

    /** da = dh · b · σ(a)(1 + a(1 − σ(a))), db = dh · silu(a); both overwritten. */
    static void backward(float[] dh, float[] a, float[] b, float[] da, float[] db, int n) {
        for (int i = 0; i < n; i++) {
            float g = a[i];
            float sigma = 1.0f / (1.0f + (float) Math.exp(-g));
            da[i] = dh[i] * b[i] * sigma * (1f + g * (1f - sigma));
            db[i] = dh[i] * g * sigma;
        }
    }
}
