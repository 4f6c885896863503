package dev.binmos.engine.binarymos;

import dev.binmos.engine.linear.Linear;
import dev.binmos.engine.util.Parallel;

/**
 * A BinaryMoS linear layer (Jo et al., 2024): y = ((x ⊙ ŝ_in) · sign(W)ᵀ) ⊙ ŝ_out, where per token
 * g = softmax(x · W_Rᵀ) over all E experts, ŝ_in = g · S_in and ŝ_out = g · S_out.
 * <p>
 * Per tile of up to {@value #TOKEN_TILE} tokens: a prologue computes g and xs = x ⊙ ŝ_in (zero-padded to
 * whole 64-column words, so padding signs never count) and the kernel's per-token data, once, in the
 * calling thread; then one unscaled ±1 product over the packed signs, split by rows across threads, reads
 * each row's bits once for all tokens of the tile and multiplies each finished row by ŝ_out.
 */
public final class BinaryMosLinear implements Linear {
    /** Tokens per pass over the weights: bounds the LUT tables to 16 × 64 KB for in = 4096. */
    private static final int TOKEN_TILE = 16;
    /** Work (weights × tokens) below which a thread hand-off costs more than it saves. */
    private static final long MIN_TASK_WEIGHTS = 1 << 18;

    /** Inner loop of the ±1 product. */
    public enum Kernel {
        /** Table lookup (T-MAC style) on 512-bit vectors: the fast path on AVX-512. */
        LUT(LutKernel.INSTANCE),
        /** Sign bits as vector masks: any vector width; half the speed of LUT on AVX-512. */
        MASKED(MaskedKernel.INSTANCE);

        private final SignKernel implementation;

        Kernel(SignKernel implementation) {
            this.implementation = implementation;
        }

        /** LUT where this machine has native 512-bit vectors, else MASKED. */
        public static Kernel preferred() {
            return LutKernel.supported() ? LUT : MASKED;
        }
    }

    private final PackedSigns signs;
    private final MixtureScales scales;
    private final Kernel kernel;
    private final int in;
    private final int out;
    private final int paddedIn;

    /**
     * @param router W_R [experts, in], row-major
     * @param sIn    S_in [experts, in]
     * @param sOut   S_out [experts, out]
     */
    public BinaryMosLinear(PackedSigns signs, float[] router, float[] sIn, float[] sOut, int experts) {
        this(signs, router, sIn, sOut, experts, Kernel.preferred());
    }

    public BinaryMosLinear(PackedSigns signs, float[] router, float[] sIn, float[] sOut, int experts, Kernel kernel) {
        this.signs = signs;
        this.out = signs.rows();
        this.in = signs.cols();
        this.paddedIn = signs.wordsPerRow() * Long.SIZE;
        this.scales = new MixtureScales(experts, in, out, router, sIn, sOut);
        this.kernel = kernel;
    }

    public PackedSigns signs() {
        return signs;
    }

    public int experts() {
        return scales.experts();
    }

    /** W_R [experts, in]. */
    public float[] router() {
        return scales.router();
    }

    /** S_in [experts, in]. */
    public float[] sIn() {
        return scales.sIn();
    }

    /** S_out [experts, out]. */
    public float[] sOut() {
        return scales.sOut();
    }

    public Kernel kernel() {
        return kernel;
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return out;
    }

    @Override
    public long weightBytes() {
        return signs.byteSize() + scales.byteSize();
    }

    @Override
    public void apply(float[] x, float[] y, int tokens, Parallel parallel) {
        if ((long) tokens * in > x.length || (long) tokens * out > y.length) {
            throw new IllegalArgumentException(tokens + " tokens need x of " + (long) tokens * in + " and y of "
                    + (long) tokens * out + " floats, got " + x.length + " and " + y.length);
        }
        SignKernel k = kernel.implementation;
        int experts = scales.experts();
        for (int first = 0; first < tokens; first += TOKEN_TILE) {
            int n = Math.min(TOKEN_TILE, tokens - first);
            float[] gates = new float[n * experts];
            float[] xs = new float[n * paddedIn];
            for (int t = 0; t < n; t++) {
                scales.gates(x, (first + t) * in, gates, t * experts);
                scales.scaleInput(x, (first + t) * in, gates, t * experts, xs, t * paddedIn);
            }
            float[] prepared = k.prepare(xs, n, paddedIn);
            int block = k.rowBlock();
            int blocks = (out + block - 1) / block;
            int grain = (int) Math.max(1, MIN_TASK_WEIGHTS / ((long) block * paddedIn * n));
            int yOff = first * out;
            parallel.forRange(blocks, grain, (from, to) ->
                    k.multiply(signs, prepared, n, scales, gates, y, yOff, from * block, Math.min(to * block, out)));
        }
    }
}
