package dev.binmos.engine.train;

import dev.binmos.engine.kv.PodLayout;

/**
 * Hyper-parameters of a distillation run.
 *
 * @param experts     BinaryMoS experts per linear (the paper: 4)
 * @param init        how the scales start
 * @param steps       optimizer steps
 * @param batch       sequences per step
 * @param lr          peak learning rate of the cosine schedule
 * @param warmup      share of the steps spent warming up linearly (the paper: 0.03)
 * @param weightDecay AdamW's decoupled weight decay (the paper's trainer default: 0)
 * @param clipNorm    global gradient norm clip; 0 turns it off
 * @param lambda      weight of the hidden-state MSE next to the KL (the paper: 10)
 * @param seed        routers and the order of the data
 * @param pod         PoD attention in the student's forward pass, or null for dense attention
 */
public record TrainOptions(int experts, Init init, int steps, int batch, double lr, double warmup, double weightDecay,
                           double clipNorm, double lambda, long seed, PodLayout pod) {

    /** Where the student's scales start. */
    public enum Init {
        /** Every expert from the rank-1 SVD of |W|: S_out = a, S_in = b (the paper; what {@code binarize} writes). */
        SVD,
        /** One global scale per matrix: S_in = 1, S_out = α = mean|W| (plain sign binarization, a baseline). */
        MEAN_ABS
    }

    /** Peak learning rate measured best for stories260K (docs/BENCHMARKS.md): far above the paper's 2e-5 for 7B. */
    public static final double DEFAULT_LR = 3e-3;

    public TrainOptions {
        java.util.Objects.requireNonNull(init, "init");
        if (experts < 1 || steps < 0 || batch < 1) {
            throw new IllegalArgumentException("need experts >= 1, steps >= 0 and batch >= 1, got " + experts + ", " + steps + ", " + batch);
        }
        if (!(lr >= 0) || !(warmup >= 0 && warmup <= 1) || !(weightDecay >= 0) || !(clipNorm >= 0) || !(lambda >= 0)) {
            throw new IllegalArgumentException("lr, weight decay, clip norm and lambda must be >= 0 and warm-up in [0, 1]");
        }
    }

    /** What a checkpoint must agree on to be resumed by these options. */
    String fingerprint() {
        String podText = pod == null ? "dense" : "pod " + pod.metadata();
        return "experts " + experts + ", init " + init + ", steps " + steps + ", batch " + batch + ", lr " + lr + ", warmup " + warmup
                + ", weight decay " + weightDecay + ", clip " + clipNorm + ", lambda " + lambda + ", seed " + seed + ", " + podText;
    }
}
