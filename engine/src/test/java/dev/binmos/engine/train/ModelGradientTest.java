package dev.binmos.engine.train;

import static dev.binmos.engine.train.GradCheck.check;

import dev.binmos.engine.kv.PodGroups;
import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.kv.PodMode;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference check of the whole student: the distillation loss (KL + λ · hidden-state MSE)
 * through embeddings, every block (norms, BinaryMoS q/k/v/o/gate/up/down, RoPE, attention, SwiGLU) and
 * the classifier, against the gradient of every router, S_in, S_out and sign entry of every layer.
 * The signs are made continuous here (B ≈ ±1 with noise) so that their gradient — the one the
 * straight-through estimator hands to the latent weights — is differentiable.
 */
class ModelGradientTest {
    private static final double LAMBDA = 10;
    /** Richardson step: large enough that float rounding through five ops per block stays below 1e-3. */
    private static final double EPS = 5e-2;
    /** Measured worst error of a correct gradient here is ~1.7e-3; a wrong term gives more than 1e-2. */
    private static final double TOLERANCE = 4e-3;

    @Test
    void denseAttention() {
        checkModel(2, null);
    }

    @Test
    void podSharedKeys() {
        checkModel(3, new PodLayout(1, 2, PodMode.SHARED_KEYS, PodGroups.parse("0,1-2", 3, 1)));
    }

    @Test
    void podSharedScores() {
        checkModel(3, new PodLayout(1, 2, PodMode.SHARED_SCORES, PodGroups.parse("0,1-2", 3, 1)));
    }

    private static void checkModel(int layers, PodLayout pod) {
        SplittableRandom random = new SplittableRandom(5);
        Teacher teacher = new Teacher(TinyModel.random(layers, 3));
        int experts = 3;
        Student student = Student.init(teacher, experts, TrainOptions.Init.SVD, 9);
        // move the experts apart, else every router gradient is zero
        for (float[] a : student.arrays()) {
            for (int i = 0; i < a.length; i++) {
                a[i] *= (float) (1 + 0.3 * random.nextGaussian());
            }
        }
        int[] tokens = {1, 5, 9, 2, 14, 7, 3};
        int t = tokens.length;
        float[][][] b = new float[layers][7][];
        Signs[][] signs = new Signs[layers][7];
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < 7; i++) {
                MosWeights w = student.linears[l][i];
                b[l][i] = new float[w.latent().length];
                for (int j = 0; j < b[l][i].length; j++) {
                    b[l][i][j] = (w.latent()[j] < 0 ? -1f : 1f) * (float) (1 + 0.2 * random.nextGaussian());
                }
                signs[l][i] = new Signs(b[l][i], Matmul.transpose(b[l][i], w.out(), w.in()));
            }
        }
        SequencePass pass = new SequencePass(teacher, experts, t);
        Student grad = student.zerosLike();
        int dim = teacher.config.dim();
        pass.train(student, signs, tokens, pod, 1, t * dim, LAMBDA, grad);
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < 7; i++) {
                int layer = l;
                int linear = i;
                MosWeights w = student.linears[l][i];
                MosWeights g = grad.linears[l][i];
                DoubleSupplier loss = () -> {
                    signs[layer][linear] = new Signs(b[layer][linear], Matmul.transpose(b[layer][linear], w.out(), w.in()));
                    SequencePass.Losses losses = pass.train(student, signs, tokens, pod, 1, t * dim, LAMBDA, student.zerosLike());
                    return losses.kl() + LAMBDA * losses.squaredError() / (t * dim);
                };
                String what = "layer " + l + " " + Teacher.LINEARS.get(i) + (pod == null ? "" : " PoD " + pod.mode());
                check(what + " signs", b[l][i], g.latent(), loss, EPS, true, TOLERANCE);
                check(what + " router", w.router(), g.router(), loss, EPS, true, TOLERANCE);
                check(what + " S_in", w.sIn(), g.sIn(), loss, EPS, true, TOLERANCE);
                check(what + " S_out", w.sOut(), g.sOut(), loss, EPS, true, TOLERANCE);
            }
        }
    }
}
