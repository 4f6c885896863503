package dev.binmos.engine.binarymos;

/**
 * The BinaryMoS layer written out plainly in double from the unpacked weights: the oracle for the kernels.
 * sign(w) is +1 for w ≥ 0 (including ±0), −1 below.
 */
final class BinaryMosReference {
    private BinaryMosReference() {
    }

    /** y [tokens, out] for x [tokens, in], W [out, in], router and S_in [experts, in], S_out [experts, out]. */
    static double[] apply(float[] w, int out, int in, float[] router, float[] sIn, float[] sOut, int experts,
                          float[] x, int tokens) {
        double[] y = new double[tokens * out];
        double[] xs = new double[in];
        double[] g = new double[experts];
        for (int t = 0; t < tokens; t++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int e = 0; e < experts; e++) {
                double logit = 0;
                for (int i = 0; i < in; i++) {
                    logit += (double) router[e * in + i] * x[t * in + i];
                }
                g[e] = logit;
                max = Math.max(max, logit);
            }
            double sum = 0;
            for (int e = 0; e < experts; e++) {
                g[e] = Math.exp(g[e] - max);
                sum += g[e];
            }
            for (int e = 0; e < experts; e++) {
                g[e] /= sum;
            }
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int e = 0; e < experts; e++) {
                    s += g[e] * sIn[e * in + i];
                }
                xs[i] = x[t * in + i] * s;
            }
            for (int o = 0; o < out; o++) {
                double acc = 0;
                for (int i = 0; i < in; i++) {
                    acc += sign(w[o * in + i]) * xs[i];
                }
                double s = 0;
                for (int e = 0; e < experts; e++) {
                    s += g[e] * sOut[e * out + o];
                }
                y[t * out + o] = acc * s;
            }
        }
        return y;
    }

    /** Branch-free: random signs would mispredict half the time. */
    private static double sign(float w) {
        return 1 - 2 * (Float.floatToRawIntBits(w) >>> 31 & (w == 0f ? 0 : 1));
    }
}
