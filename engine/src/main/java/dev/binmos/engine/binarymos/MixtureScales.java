package dev.binmos.engine.binarymos;

import dev.binmos.engine.tensor.ArrayTensor;
import dev.binmos.engine.tensor.FloatTensor;
import dev.binmos.engine.util.Buffers;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The mixture-of-scales half of a BinaryMoS layer: router W_R [E, in], S_in [E, in], S_out [E, out],
 * row-major tensors of any float type (a model file's F16 or F32 tensors stay mapped, not copied). Per
 * token: g = softmax(x·W_Rᵀ) over all E experts, ŝ_in = g·S_in, ŝ_out = g·S_out. Scales may be negative
 * and are used as they are.
 */
final class MixtureScales {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private final int experts;
    private final int in;
    private final int out;
    private final FloatTensor router;
    private final FloatTensor sIn;
    private final FloatTensor sOut;

    MixtureScales(int experts, int in, int out, FloatTensor router, FloatTensor sIn, FloatTensor sOut) {
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

    private static void check(String name, FloatTensor values, long expected) {
        if (values.size() != expected) {
            throw new IllegalArgumentException(name + " has " + values.size() + " values, expected " + expected);
        }
    }

    int experts() {
        return experts;
    }

    /** W_R, S_in or S_out as a float array: the array itself when they are held as one, else a copy. */
    static float[] floats(FloatTensor tensor) {
        return tensor instanceof ArrayTensor a ? a.values() : tensor.toFloatArray();
    }

    FloatTensor router() {
        return router;
    }

    FloatTensor sIn() {
        return sIn;
    }

    FloatTensor sOut() {
        return sOut;
    }

    long byteSize() {
        return router.type().byteSize(router.size()) + sIn.type().byteSize(sIn.size()) + sOut.type().byteSize(sOut.size());
    }

    /** S_in then S_out as floats, [E · in + E · out], read once per product into reuse, or a larger array. */
    float[] rows(float[] reuse) {
        float[] rows = Buffers.grown(reuse, experts * (in + out));
        sIn.copyTo(0, rows, 0, experts * in);
        sOut.copyTo(0, rows, experts * in, experts * out);
        return rows;
    }

    /**
     * g[t · E + e] = softmax_e(x_t · W_R[e]) for the tokens t &lt; count, x_t = x[xOff + t · in, +in): the
     * router rows two at a time for all tokens ({@link FloatTensor#dots}, which widens an F16 row once per
     * eight tokens), each logit bit for bit what one token alone gets.
     */
    void gates(float[] x, int xOff, int count, float[] g) {
        int e = 0;
        for (; e + 1 < experts; e += 2) {
            router.dots((long) e * in, (long) (e + 1) * in, x, xOff, in, count, in, g, e, e + 1, experts);
        }
        if (e < experts) {
            router.dots((long) e * in, x, xOff, in, count, in, g, e, experts);
        }
        for (int t = 0; t < count; t++) {
            int gOff = t * experts;
            float max = Float.NEGATIVE_INFINITY;
            for (int k = 0; k < experts; k++) {
                max = Math.max(max, g[gOff + k]);
            }
            float sum = 0f;
            for (int k = 0; k < experts; k++) {
                g[gOff + k] = (float) Math.exp(g[gOff + k] - max);
                sum += g[gOff + k];
            }
            for (int k = 0; k < experts; k++) {
                g[gOff + k] /= sum;
            }
        }
    }

    /**
     * xs[xsOff + i] = x[xOff + i] · ŝ_in[i] for i in [0, in), with ŝ_in = g·S_in mixed on the fly from
     * {@link #rows}.
     */
    void scaleInput(float[] x, int xOff, float[] g, int gOff, float[] rows, float[] xs, int xsOff) {
        int i = 0;
        for (int bound = S.loopBound(in); i < bound; i += S.length()) {
            FloatVector s = FloatVector.fromArray(S, rows, i).mul(g[gOff]);
            for (int e = 1; e < experts; e++) {
                s = FloatVector.fromArray(S, rows, e * in + i).fma(FloatVector.broadcast(S, g[gOff + e]), s);
            }
            s.mul(FloatVector.fromArray(S, x, xOff + i)).intoArray(xs, xsOff + i);
        }
        for (; i < in; i++) {
            float s = rows[i] * g[gOff];
            for (int e = 1; e < experts; e++) {
                s = Math.fma(rows[e * in + i], g[gOff + e], s);
            }
            xs[xsOff + i] = x[xOff + i] * s;
        }
    }

    /** sHat[sOff + o − from] = ŝ_out[o] = Σ_e g[gOff + e] · S_out[e, o] for o in [from, to), from {@link #rows}. */
    void outScales(float[] g, int gOff, float[] rows, int from, int to, float[] sHat, int sOff) {
        int base = experts * in;
        int o = from;
        for (int bound = from + S.loopBound(to - from); o < bound; o += S.length()) {
            FloatVector s = FloatVector.zero(S);
            for (int e = 0; e < experts; e++) {
                s = FloatVector.fromArray(S, rows, base + e * out + o).fma(FloatVector.broadcast(S, g[gOff + e]), s);
            }
            s.intoArray(sHat, sOff + o - from);
        }
        for (; o < to; o++) {
            float s = 0f;
            for (int e = 0; e < experts; e++) {
                s = Math.fma(rows[base + e * out + o], g[gOff + e], s);
            }
            sHat[sOff + o - from] = s;
        }
    }
}
