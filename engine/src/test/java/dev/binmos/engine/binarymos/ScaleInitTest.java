package dev.binmos.engine.binarymos;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ScaleInitTest {

    @Test
    void reconstructsAnExactlyRank1MatrixWhateverTheSigns() {
        int out = 7, in = 5;
        Random random = new Random(1);
        float[] a = new float[out];
        float[] b = new float[in];
        for (int o = 0; o < out; o++) a[o] = 0.1f + random.nextFloat();
        for (int i = 0; i < in; i++) b[i] = 0.1f + 2 * random.nextFloat();
        float[] w = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                w[o * in + i] = (random.nextBoolean() ? -1 : 1) * a[o] * b[i];
            }
        }
        ScaleInit.Rank1 r = ScaleInit.rank1Abs(w, out, in);
        for (int o = 0; o < out; o++) {
            assertTrue(r.a()[o] > 0);
            for (int i = 0; i < in; i++) {
                assertEquals(Math.abs(w[o * in + i]), r.a()[o] * r.b()[i], 1e-5f * Math.abs(w[o * in + i]));
            }
        }
    }

    @Test
    void sigmaMatches2x2ClosedForm() {
        float[] w = {3f, -1f, 0.5f, 2f};
        // |W| = [[3, 1], [0.5, 2]]: σ₁² is the larger eigenvalue of |W|ᵀ|W|
        double p = 3 * 3 + 0.5 * 0.5, q = 3 * 1 + 0.5 * 2, s = 1 + 4;
        double lambda = (p + s) / 2 + Math.sqrt((p - s) * (p - s) / 4 + q * q);
        ScaleInit.Rank1 r = ScaleInit.rank1Abs(w, 2, 2);
        assertEquals(Math.sqrt(lambda), norm(r.a()) * norm(r.b()), 1e-5);
        assertEquals(norm(r.a()), norm(r.b()), 1e-5); // both carry √σ
    }

    @Test
    void sigmaMatchesGramPowerIteration() {
        int out = 40, in = 24;
        Random random = new Random(7);
        float[] w = new float[out * in];
        for (int k = 0; k < w.length; k++) w[k] = (float) random.nextGaussian();
        // reference: eigenvalue of G = |W|ᵀ|W| by power iteration on G itself
        double[][] g = new double[in][in];
        for (int i = 0; i < in; i++) {
            for (int j = 0; j < in; j++) {
                for (int o = 0; o < out; o++) g[i][j] += Math.abs(w[o * in + i]) * Math.abs(w[o * in + j]);
            }
        }
        double[] v = new double[in];
        v[0] = 1;
        double lambda = 0;
        for (int it = 0; it < 500; it++) {
            double[] next = new double[in];
            for (int i = 0; i < in; i++) for (int j = 0; j < in; j++) next[i] += g[i][j] * v[j];
            lambda = norm(next);
            for (int i = 0; i < in; i++) v[i] = next[i] / lambda;
        }
        ScaleInit.Rank1 r = ScaleInit.rank1Abs(w, out, in);
        assertEquals(Math.sqrt(lambda), norm(r.a()) * norm(r.b()), 1e-5 * Math.sqrt(lambda));
        double vNorm = norm(r.b());
        for (int i = 0; i < in; i++) assertEquals(v[i], r.b()[i] / vNorm, 1e-5);
    }

    @Test
    void routerIsDeterministicAndBounded() {
        float[] first = ScaleInit.router(4, 100, 42);
        assertArrayEquals(first, ScaleInit.router(4, 100, 42));
        assertNotEquals(first[0], ScaleInit.router(4, 100, 43)[0]);
        for (float value : first) assertTrue(Math.abs(value) <= 0.1f);
    }

    private static double norm(float[] x) {
        double s = 0;
        for (float value : x) s += (double) value * value;
        return Math.sqrt(s);
    }

    private static double norm(double[] x) {
        double s = 0;
        for (double value : x) s += value * value;
        return Math.sqrt(s);
    }
}
