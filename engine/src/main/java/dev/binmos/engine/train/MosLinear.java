package dev.binmos.engine.train;

/**
 * The BinaryMoS linear for a sequence of tokens x [T, in], forward and backward:
 * g = softmax(x·W_Rᵀ), ŝ_in = g·S_in, ŝ_out = g·S_out, y = ((x ⊙ ŝ_in)·Bᵀ) ⊙ ŝ_out with B = sign(latent).
 * The forward pass keeps what backward needs in a {@link Saved}; backward accumulates dB into the
 * latent gradient (the straight-through clip is applied once per step, see {@link #clipStraightThrough}).
 */
final class MosLinear {
    private MosLinear() {
    }

    /** Activations of one linear for one sequence, sized for the longest sequence. */
    static final class Saved {
        final float[] gates;
        final float[] sInHat;
        final float[] sOutHat;
        final float[] xs;
        final float[] u;

        Saved(int tokens, int in, int out, int experts) {
            gates = new float[tokens * experts];
            sInHat = new float[tokens * in];
            sOutHat = new float[tokens * out];
            xs = new float[tokens * in];
            u = new float[tokens * out];
        }
    }

    /** Backward scratch shared by all linears of a worker. */
    static final class Scratch {
        final float[] du;
        final float[] dxs;
        final float[] dsIn;
        final float[] dsOut;
        final float[] dz;

        Scratch(int tokens, int width, int experts) {
            du = new float[tokens * width];
            dxs = new float[tokens * width];
            dsIn = new float[tokens * width];
            dsOut = new float[tokens * width];
            dz = new float[tokens * experts];
        }
    }

    static void forward(MosWeights w, Signs b, float[] x, int tokens, float[] y, Saved s) {
        int in = w.in();
        int out = w.out();
        int experts = w.experts();
        float[] g = s.gates;
        for (int t = 0; t < tokens; t++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int e = 0; e < experts; e++) {
                g[t * experts + e] = Vec.dot(w.router(), e * in, x, t * in, in);
                max = Math.max(max, g[t * experts + e]);
            }
            float sum = 0f;
            for (int e = 0; e < experts; e++) {
                g[t * experts + e] = (float) Math.exp(g[t * experts + e] - max);
                sum += g[t * experts + e];
            }
            for (int e = 0; e < experts; e++) {
                g[t * experts + e] /= sum;
            }
        }
        Matmul.mul(g, w.sIn(), s.sInHat, tokens, experts, in, false);
        Matmul.mul(g, w.sOut(), s.sOutHat, tokens, experts, out, false);
        int n = tokens * in;
        for (int i = 0; i < n; i++) {
            s.xs[i] = x[i] * s.sInHat[i];
        }
        Matmul.mul(s.xs, b.columns, s.u, tokens, in, out, false);
        int m = tokens * out;
        for (int i = 0; i < m; i++) {
            y[i] = s.u[i] * s.sOutHat[i];
        }
    }

    /**
     * Given dy [T, out]: dx [T, in] += the input gradient; grad (same shapes as w) += the gradients of
     * the router, S_in, S_out and, in its latent slot, of B.
     */
    static void backward(MosWeights w, Signs b, float[] x, float[] dy, int tokens, Saved s, Scratch k,
                         float[] dx, MosWeights grad) {
        int in = w.in();
        int out = w.out();
        int experts = w.experts();
        int m = tokens * out;
        for (int i = 0; i < m; i++) {
            k.du[i] = dy[i] * s.sOutHat[i];
            k.dsOut[i] = dy[i] * s.u[i];
        }
        Matmul.mulTransposed(k.du, s.xs, grad.latent(), out, tokens, in, true);
        Matmul.mul(k.du, b.rows, k.dxs, tokens, out, in, false);
        int n = tokens * in;
        for (int i = 0; i < n; i++) {
            k.dsIn[i] = k.dxs[i] * x[i];
            dx[i] += k.dxs[i] * s.sInHat[i];
        }
        Matmul.mulTransposed(s.gates, k.dsIn, grad.sIn(), experts, tokens, in, true);
        Matmul.mulTransposed(s.gates, k.dsOut, grad.sOut(), experts, tokens, out, true);
        // softmax backward: dz = g ⊙ (dg − Σ g·dg), with dg_e = dŝ_in·S_in[e] + dŝ_out·S_out[e]
        float[] g = s.gates;
        for (int t = 0; t < tokens; t++) {
            float mean = 0f;
            for (int e = 0; e < experts; e++) {
                float dg = Vec.dot(k.dsIn, t * in, w.sIn(), e * in, in) + Vec.dot(k.dsOut, t * out, w.sOut(), e * out, out);
                k.dz[t * experts + e] = dg;
                mean += g[t * experts + e] * dg;
            }
            for (int e = 0; e < experts; e++) {
                k.dz[t * experts + e] = g[t * experts + e] * (k.dz[t * experts + e] - mean);
            }
        }
        Matmul.mulTransposed(k.dz, x, grad.router(), experts, tokens, in, true);
        Matmul.mul(k.dz, w.router(), dx, tokens, experts, in, true);
    }

    /** Straight-through estimator of sign: the gradient of B reaches a latent weight only where |w| < 1. */
    static void clipStraightThrough(float[] latent, float[] grad) {
        for (int i = 0; i < latent.length; i++) {
            if (!(Math.abs(latent[i]) < 1f)) {
                grad[i] = 0f;
            }
        }
    }
}
