package dev.binmos.engine.binarymos;

import dev.binmos.engine.tensor.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The mixture-of-scales half of a BinaryMoS layer: router W_R [E, in], S_in [E, in], S_out [E, out], all
 * row-major fp32. Per token: g = softmax(x·W_Rᵀ) over all E experts, ŝ_in = g·S_in, ŝ_out = g·S_out.
 * Scales may be negative and are used as they are.
 */
final class MixtureScales {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private final int experts;
    private final int in;
    private final int out;
    private final float[] router;
    private final float[] sIn;
    private final float[] sOut;

    MixtureScales(int experts, int in, int out, float[] router, float[] sIn, float[] sOut) {
        if (experts < 1) {
            throw new IllegalArgumentException("experts must be at least 1, got " + experts);
        }
        check("router", router, (long) experts * in);
        check("S_in", sIn, (long) experts * in);
        check("S_out", sOut, (long) experts * out);
        this.experts = experts;
        this.in = in;
        this.out = out;
        this.router = router;
        this.sIn = sIn;
        this.sOut = sOut;
    }

    private static void check(String name, float[] values, long expected) {
        if (values.length != expected) {
            throw new IllegalArgumentException(name + " has " + values.length + " values, expected " + expected);
        }
    }

    int experts() {
        return experts;
    }

    float[] router() {
        return router;
    }

    float[] sIn() {
        return sIn;
    }

    float[] sOut() {
        return sOut;
    }

    long byteSize() {
        return (long) Float.BYTES * (router.length + sIn.length + sOut.length);
    }

    /** g[gOff + e] = softmax_e(x[xOff..xOff+in) · W_R[e]). */
    void gates(float[] x, int xOff, float[] g, int gOff) {
        float max = Float.NEGATIVE_INFINITY;
        for (int e = 0; e < experts; e++) {
            g[gOff + e] = dot(router, e * in, x, xOff);
            max = Math.max(max, g[gOff + e]);
        }
        float sum = 0f;
        for (int e = 0; e < experts; e++) {
            g[gOff + e] = (float) Math.exp(g[gOff + e] - max);
            sum += g[gOff + e];
        }
        for (int e = 0; e < experts; e++) {
            g[gOff + e] /= sum;
        }
    }

    private float dot(float[] w, int wOff, float[] x, int xOff) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(in); i < bound; i += S.length()) {
            acc = FloatVector.fromArray(S, w, wOff + i).fma(FloatVector.fromArray(S, x, xOff + i), acc);
        }
        float sum = Lanes.sum(acc);
        for (; i < in; i++) {
            sum += w[wOff + i] * x[xOff + i];
        }
        return sum;
    }

    /** xs[xsOff + i] = x[xOff + i] · ŝ_in[i] for i in [0, in), with ŝ_in = g·S_in mixed on the fly. */
    void scaleInput(float[] x, int xOff, float[] g, int gOff, float[] xs, int xsOff) {
        int i = 0;
        for (int bound = S.loopBound(in); i < bound; i += S.length()) {
            FloatVector s = FloatVector.fromArray(S, sIn, i).mul(g[gOff]);
            for (int e = 1; e < experts; e++) {
                s = FloatVector.fromArray(S, sIn, e * in + i).fma(FloatVector.broadcast(S, g[gOff + e]), s);
            }
            s.mul(FloatVector.fromArray(S, x, xOff + i)).intoArray(xs, xsOff + i);
        }
        for (; i < in; i++) {
            float s = 0f;
            for (int e = 0; e < experts; e++) {
                s += g[gOff + e] * sIn[e * in + i];
            }
            xs[xsOff + i] = x[xOff + i] * s;
        }
    }

    /** ŝ_out[o] for one token. */
    float outScale(float[] g, int gOff, int o) {
        float s = 0f;
        for (int e = 0; e < experts; e++) {
            s += g[gOff + e] * sOut[e * out + o];
        }
        return s;
    }
}
