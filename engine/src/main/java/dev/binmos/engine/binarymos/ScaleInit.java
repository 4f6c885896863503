package dev.binmos.engine.binarymos;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Initial values of a BinaryMoS layer, as in the paper's code: every expert starts from the rank-1 SVD of
 * |W| (S_out = u·√σ, S_in = √σ·v), and the router from PyTorch's default Linear init. With identical
 * experts the layer equals the single-scale layer whatever the router says.
 */
public final class ScaleInit {
    /** Power iterations at most; convergence usually stops far earlier (|W| has a dominant σ₁). */
    private static final int MAX_ITERATIONS = 1000;
    private static final double TOLERANCE = 1e-12;

    private ScaleInit() {
    }

    /** |W| ≈ a·bᵀ with a [out] and b [in]. */
    public record Rank1(float[] a, float[] b) {
    }

    /**
     * Rank-1 SVD of |W| (row-major [out, in]) by power iteration in double: a = u·√σ₁, b = v·√σ₁, with u and
     * v the leading singular vectors, which are non-negative for a non-negative matrix (Perron–Frobenius).
     */
    public static Rank1 rank1Abs(float[] w, int out, int in) {
        if (out < 1 || in < 1 || (long) out * in > w.length) {
            throw new IllegalArgumentException("shape [" + out + ", " + in + "] does not fit " + w.length + " weights");
        }
        // Start from the all-ones vector: positive, so never orthogonal to the non-negative v.
        double[] v = new double[in];
        Arrays.fill(v, 1 / Math.sqrt(in));
        double[] u = new double[out];
        double sigma = 0;
        for (int it = 0; it < MAX_ITERATIONS; it++) {
            multiply(w, out, in, v, u);
            double norm = normalize(u);
            if (norm == 0) {
                break; // W = 0: a = b = 0 is its rank-1 approximation
            }
            multiplyTransposed(w, out, in, u, v);
            double next = normalize(v);
            boolean converged = Math.abs(next - sigma) <= TOLERANCE * next;
            sigma = next;
            if (converged) {
                break;
            }
        }
        multiply(w, out, in, v, u);
        sigma = normalize(u);
        double root = Math.sqrt(sigma);
        float[] a = new float[out];
        float[] b = new float[in];
        for (int o = 0; o < out; o++) {
            a[o] = (float) (Math.abs(u[o]) * root);
        }
        for (int i = 0; i < in; i++) {
            b[i] = (float) (Math.abs(v[i]) * root);
        }
        return new Rank1(a, b);
    }

    /** u = |W|·v. */
    private static void multiply(float[] w, int out, int in, double[] v, double[] u) {
        for (int o = 0; o < out; o++) {
            double sum = 0;
            int row = o * in;
            for (int i = 0; i < in; i++) {
                sum += Math.abs(w[row + i]) * v[i];
            }
            u[o] = sum;
        }
    }

    /** v = |W|ᵀ·u. */
    private static void multiplyTransposed(float[] w, int out, int in, double[] u, double[] v) {
        Arrays.fill(v, 0);
        for (int o = 0; o < out; o++) {
            int row = o * in;
            double uo = u[o];
            for (int i = 0; i < in; i++) {
                v[i] += Math.abs(w[row + i]) * uo;
            }
        }
    }

    /** Scales x to unit length; returns its former length. */
    private static double normalize(double[] x) {
        double sum = 0;
        for (double value : x) {
            sum += value * value;
        }
        double norm = Math.sqrt(sum);
        if (norm > 0) {
            for (int i = 0; i < x.length; i++) {
                x[i] /= norm;
            }
        }
        return norm;
    }

    /**
     * A router W_R [experts, in] drawn uniformly from ±1/√in (PyTorch's nn.Linear default), the same for
     * the same seed.
     */
    public static float[] router(int experts, int in, long seed) {
        if (experts < 1 || in < 1) {
            throw new IllegalArgumentException("router [" + experts + ", " + in + "] must be positive");
        }
        SplittableRandom random = new SplittableRandom(seed);
        float bound = (float) (1 / Math.sqrt(in));
        float[] router = new float[Math.multiplyExact(experts, in)];
        for (int i = 0; i < router.length; i++) {
            router[i] = (float) random.nextDouble(-bound, bound);
        }
        return router;
    }
}
