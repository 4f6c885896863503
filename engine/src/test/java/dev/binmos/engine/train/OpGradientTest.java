package dev.binmos.engine.train;

import static dev.binmos.engine.train.GradCheck.check;
import static dev.binmos.engine.train.GradCheck.gaussian;
import static dev.binmos.engine.train.GradCheck.project;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.binmos.engine.kv.PodGroups;
import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.kv.PodMode;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference checks of every training op on its own: each op's backward against central
 * differences of Σ r·y for a random r (the loss whose output gradient is r).
 */
class OpGradientTest {
    private final SplittableRandom random = new SplittableRandom(11);

    @Test
    void matmulMatchesTheDefinition() {
        int rows = 5;
        int inner = 7;
        int n = 83;
        float[] a = gaussian(random, rows * inner, 1);
        float[] m = gaussian(random, inner * n, 1);
        float[] c = gaussian(random, rows * n, 1);
        float[] expected = c.clone();
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < n; j++) {
                for (int k = 0; k < inner; k++) {
                    expected[r * n + j] += a[r * inner + k] * m[k * n + j];
                }
            }
        }
        Matmul.mul(a, m, c, rows, inner, n, true);
        for (int i = 0; i < c.length; i++) {
            assertEquals(expected[i], c[i], 1e-4, "element " + i);
        }
        float[] at = Matmul.transpose(a, rows, inner);
        float[] c2 = new float[rows * n];
        Matmul.mulTransposed(at, m, c2, rows, inner, n, false);
        for (int i = 0; i < c2.length; i++) {
            assertEquals(expected[i] - c[i] + c2[i], c2[i], 1e-4);
        }
    }

    @Test
    void rmsNorm() {
        int tokens = 3;
        int dim = 10;
        // |x| ≈ 3 makes 1/rms far from 1, so a wrong power of it shows
        float[] x = gaussian(random, tokens * dim, 3);
        float[] w = gaussian(random, dim, 1);
        float[] r = gaussian(random, tokens * dim, 1);
        float[] y = new float[tokens * dim];
        float[] rms = new float[tokens];
        float[] dx = new float[tokens * dim];
        RmsNorm.forward(x, w, 1e-5f, tokens, y, rms);
        RmsNorm.backward(r, x, w, rms, tokens, dx);
        check("rmsnorm dx", x, dx, () -> {
            RmsNorm.forward(x, w, 1e-5f, tokens, y, rms);
            return project(y, r, y.length);
        }, 1e-2);
    }

    @Test
    void rope() {
        int tokens = 5;
        int width = 12;
        Rope rope = new Rope(4, 10000f, tokens);
        float[] x = gaussian(random, tokens * width, 1);
        float[] r = gaussian(random, tokens * width, 1);
        float[] dx = r.clone();
        rope.backward(dx, tokens, width);
        check("rope dx", x, dx, () -> {
            float[] y = x.clone();
            rope.forward(y, tokens, width);
            return project(y, r, y.length);
        }, 1e-2);
    }

    @Test
    void swiGlu() {
        int n = 20;
        float[] a = gaussian(random, n, 2);
        float[] b = gaussian(random, n, 1);
        float[] r = gaussian(random, n, 1);
        float[] h = new float[n];
        float[] da = new float[n];
        float[] db = new float[n];
        SwiGlu.backward(r, a, b, da, db, n);
        check("swiglu da", a, da, () -> {
            SwiGlu.forward(a, b, h, n);
            return project(h, r, n);
        }, 1e-2);
        check("swiglu db", b, db, () -> {
            SwiGlu.forward(a, b, h, n);
            return project(h, r, n);
        }, 1e-2);
    }

    @Test
    void causalGroupedQueryAttention() {
        checkAttention(null, null);
    }

    @Test
    void podSharedKeysAttention() {
        checkAttention(PodMode.SHARED_KEYS, "0-1");
    }

    @Test
    void podSharedScoresAttention() {
        checkAttention(PodMode.SHARED_SCORES, "0-1");
    }

    @Test
    void podWithGroupsPerKvHead() {
        checkAttention(PodMode.SHARED_KEYS, "0,1;0-1");
    }

    /**
     * 4 query heads over 2 kv heads of size 4, as layer 1 of 2; with PoD, 2 sinks and a window of 3 over 9
     * positions, borrowing from layer 0 as the groups say.
     */
    private void checkAttention(PodMode mode, String groups) {
        int tokens = 9;
        int dim = 16;
        int kvDim = 8;
        Attention attention = new Attention(dim, 4, 2, tokens);
        float[] q = gaussian(random, tokens * dim, 1);
        float[] k = gaussian(random, tokens * kvDim, 1);
        float[] v = gaussian(random, tokens * kvDim, 1);
        float[] r = gaussian(random, tokens * dim, 1);
        float[] anchorQ = gaussian(random, tokens * dim, 1);
        float[] anchorK = gaussian(random, tokens * kvDim, 1);
        float[] dAnchorQ = new float[tokens * dim];
        float[] dAnchorK = new float[tokens * kvDim];
        float[] dq = new float[tokens * dim];
        float[] dk = new float[tokens * kvDim];
        float[] dv = new float[tokens * kvDim];
        Attention.Borrowing pod = mode == null ? null : new Attention.Borrowing(
                new PodLayout(2, 3, mode, PodGroups.parse(groups, 2, 2)), 1,
                new float[][] {anchorQ, q}, new float[][] {anchorK, k}, new float[][] {dAnchorQ, null}, new float[][] {dAnchorK, null});
        float[] out = new float[tokens * dim];
        attention.backward(q, k, v, r, tokens, dq, dk, dv, pod);
        DoubleSupplier loss = () -> {
            attention.forward(q, k, v, tokens, out, pod);
            return project(out, r, out.length);
        };
        String what = mode == null ? "attention" : "PoD " + mode + " " + groups + " attention";
        check(what + " dq", q, dq, loss, 1e-2);
        check(what + " dk", k, dk, loss, 1e-2);
        check(what + " dv", v, dv, loss, 1e-2);
        if (mode == PodMode.SHARED_SCORES) {
            check(what + " d anchor q", anchorQ, dAnchorQ, loss, 1e-2);
        }
        if (mode != null) {
            check(what + " d anchor k", anchorK, dAnchorK, loss, 1e-2);
        }
    }

    @Test
    void podAttentionIsDenseWhileNothingIsDistant() {
        int tokens = 6;
        Attention attention = new Attention(16, 4, 2, tokens);
        float[] q = gaussian(random, tokens * 16, 1);
        float[] k = gaussian(random, tokens * 8, 1);
        float[] v = gaussian(random, tokens * 8, 1);
        float[] dense = new float[tokens * 16];
        float[] pod = new float[tokens * 16];
        attention.forward(q, k, v, tokens, dense, null);
        float[] otherKeys = gaussian(random, tokens * 8, 1);
        attention.forward(q, k, v, tokens, pod, new Attention.Borrowing(new PodLayout(2, 4, PodMode.SHARED_KEYS, PodGroups.parse("0-1", 2, 2)),
                1, new float[][] {q, q}, new float[][] {otherKeys, k}, new float[2][], new float[2][]));
        assertArrayEquals(dense, pod, 0f, "sinks + window cover all 6 positions");
    }

    @Test
    void binaryMosLinear() {
        int tokens = 4;
        int in = 20;
        int out = 18;
        int experts = 3;
        MosWeights w = new MosWeights(out, in, experts, gaussian(random, out * in, 1), gaussian(random, experts * in, 0.5),
                gaussian(random, experts * in, 1), gaussian(random, experts * out, 1));
        float[] b = gaussian(random, out * in, 1);
        float[] x = gaussian(random, tokens * in, 1);
        float[] r = gaussian(random, tokens * out, 1);
        MosLinear.Saved saved = new MosLinear.Saved(tokens, in, out, experts);
        MosLinear.Scratch scratch = new MosLinear.Scratch(tokens, Math.max(in, out), experts);
        float[] y = new float[tokens * out];
        float[] dx = new float[tokens * in];
        MosWeights grad = w.zerosLike();
        MosLinear.forward(w, new Signs(b, Matmul.transpose(b, out, in)), x, tokens, y, saved);
        MosLinear.backward(w, new Signs(b, Matmul.transpose(b, out, in)), x, r, tokens, saved, scratch, dx, grad);
        DoubleSupplier loss = () -> {
            MosLinear.forward(w, new Signs(b, Matmul.transpose(b, out, in)), x, tokens, y, saved);
            return project(y, r, y.length);
        };
        check("BinaryMoS dx", x, dx, loss, 1e-2);
        check("BinaryMoS dB", b, grad.latent(), loss, 1e-2);
        check("BinaryMoS d router", w.router(), grad.router(), loss, 1e-2);
        check("BinaryMoS d S_in", w.sIn(), grad.sIn(), loss, 1e-2);
        check("BinaryMoS d S_out", w.sOut(), grad.sOut(), loss, 1e-2);
    }

    @Test
    void signsAreTheLatentSignsWithZeroPositive() {
        MosWeights w = new MosWeights(2, 2, 1, new float[] {0.3f, -0.0f, 0f, -2f}, new float[2], new float[2], new float[2]);
        Signs s = Signs.of(w);
        assertArrayEquals(new float[] {1, 1, 1, -1}, s.rows);
        assertArrayEquals(new float[] {1, 1, 1, -1}, s.columns);
    }

    @Test
    void straightThroughPassesOnlyInsideTheClip() {
        float[] latent = {0.5f, -0.99f, 1f, -1f, 3f, 0f};
        float[] grad = {1, 2, 3, 4, 5, 6};
        MosLinear.clipStraightThrough(latent, grad);
        assertArrayEquals(new float[] {1, 2, 0, 0, 0, 6}, grad);
    }

    @Test
    void klDivergence() {
        int tokens = 3;
        int vocab = 11;
        float[] teacher = gaussian(random, tokens * vocab, 2);
        float[] student = gaussian(random, tokens * vocab, 2);
        float[] d = new float[tokens * vocab];
        float[] scratch = new float[vocab];
        double batchTokens = 5;
        double kl = Distillation.kl(teacher, student, tokens, vocab, batchTokens, d, scratch);
        double expected = 0;
        for (int t = 0; t < tokens; t++) {
            double[] pt = softmax(teacher, t * vocab, vocab);
            double[] ps = softmax(student, t * vocab, vocab);
            for (int i = 0; i < vocab; i++) {
                expected += pt[i] * Math.log(pt[i] / ps[i]);
            }
        }
        assertEquals(expected, kl, 1e-6);
        check("KL d student", student, d, () -> Distillation.kl(teacher, student, tokens, vocab, batchTokens, new float[d.length], scratch) / batchTokens, 1e-2);
        assertEquals(0, Distillation.kl(teacher, teacher.clone(), tokens, vocab, 1, d, scratch), 1e-9, "KL(p ‖ p) = 0");
    }

    @Test
    void hiddenStateSquaredError() {
        int n = 12;
        float[] s = gaussian(random, n, 1);
        float[] t = gaussian(random, n, 1);
        float[] d = new float[n];
        double lambda = 10;
        double elements = 24;
        Distillation.squaredError(s, t, n, lambda, elements, d);
        check("MSE d student", s, d, () -> lambda * Distillation.squaredError(s, t, n, lambda, elements, new float[n]) / elements, 1e-2);
    }

    private static double[] softmax(float[] x, int offset, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[offset + i]);
        }
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp(x[offset + i] - max);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
