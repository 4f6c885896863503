package dev.binmos.engine.train;

import dev.binmos.engine.tensor.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Vectorised dot and axpy over float runs: the inner loops of every training op. */
final class Vec {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private Vec() {
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= S.length()) {
            FloatVector acc = FloatVector.zero(S);
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
            }
            sum = Lanes.sum(acc);
        }
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /** y += alpha · x */
    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        if (n >= S.length()) {
            FloatVector va = FloatVector.broadcast(S, alpha);
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
            }
        }
        for (; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    /** x[0..n) = softmax(scale · x[0..n)) in place, with a vectorised exp. */
    static void softmax(float[] x, int n, float scale) {
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        int bound = S.loopBound(n);
        if (bound > 0) {
            FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += S.length()) {
                m = m.max(FloatVector.fromArray(S, x, i));
            }
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        // exp(scale·(x − max)): the scale is positive, so the maximum is unchanged by it
        float sum = 0f;
        i = 0;
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(S);
            for (; i < bound; i += S.length()) {
                FloatVector e = FloatVector.fromArray(S, x, i).sub(max).mul(scale).lanewise(VectorOperators.EXP);
                e.intoArray(x, i);
                acc = acc.add(e);
            }
            sum = Lanes.sum(acc);
        }
        for (; i < n; i++) {
            x[i] = (float) Math.exp((x[i] - max) * scale);
            sum += x[i];
        }
        float inv = 1f / sum;
        i = 0;
        for (; i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, i).mul(inv).intoArray(x, i);
        }
        for (; i < n; i++) {
            x[i] *= inv;
        }
    }

    /** y[i] += x[i] for i in [0, n). */
    static void add(float[] x, float[] y, int n) {
        axpy(1f, x, 0, y, 0, n);
    }
}
