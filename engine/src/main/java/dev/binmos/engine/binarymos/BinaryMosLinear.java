package dev.binmos.engine.binarymos;

import dev.binmos.engine.linear.Linear;
import dev.binmos.engine.tensor.ArrayTensor;
import dev.binmos.engine.tensor.FloatTensor;
import dev.binmos.engine.util.Buffers;
import dev.binmos.engine.util.Parallel;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A BinaryMoS linear layer (Jo et al., 2024): y = ((x ⊙ ŝ_in) · sign(W)ᵀ) ⊙ ŝ_out, where per token
 * g = softmax(x · W_Rᵀ) over all E experts, ŝ_in = g · S_in and ŝ_out = g · S_out.
 * <p>
 * Per tile of up to {@value #TOKEN_TILE} tokens: a prologue computes g, xs = x ⊙ ŝ_in (zero-padded to
 * whole 64-column words, so padding signs never count), ŝ_out and the kernel's per-token data, once, in the
 * calling thread; then one unscaled ±1 product over the packed signs, split by rows across threads, reads
 * each row's bits once for all tokens of the tile and multiplies each finished row by ŝ_out.
 */
public final class BinaryMosLinear implements Linear {
    /** Tokens per pass over the weights: the LUT kernel's token-lane tile. */
    private static final int TOKEN_TILE = LutTokenLanes.TOKENS;
    /**
     * The prologue's buffers, per calling thread and reused from call to call: a decode step through a 7B
     * model would otherwise leave tens of megabytes of garbage a token.
     */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        float[] rows = new float[0];
        float[] gates = new float[0];
        float[] xs = new float[0];
        float[] sHatOut = new float[0];
        float[] prepared = new float[0];
    }

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
    /** The signs in the kernel's layout, made on the first product (so a stage makes only its own layers'). */
    private volatile MemorySegment layout;

    /**
     * @param router W_R [experts, in], row-major
     * @param sIn    S_in [experts, in]
     * @param sOut   S_out [experts, out]
     */
    public BinaryMosLinear(PackedSigns signs, float[] router, float[] sIn, float[] sOut, int experts) {
        this(signs, router, sIn, sOut, experts, Kernel.preferred());
    }

    public BinaryMosLinear(PackedSigns signs, float[] router, float[] sIn, float[] sOut, int experts, Kernel kernel) {
        this(signs, new ArrayTensor(router), new ArrayTensor(sIn), new ArrayTensor(sOut), experts, kernel);
    }

    /** Routers and scales as tensors of any float type, e.g. a model file's, read where they are. */
    public BinaryMosLinear(PackedSigns signs, FloatTensor router, FloatTensor sIn, FloatTensor sOut, int experts, Kernel kernel) {
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

    /** W_R [experts, in] as floats (the array it was made from, or a copy of the tensor). */
    public float[] router() {
        return MixtureScales.floats(scales.router());
    }

    /** S_in [experts, in] as floats. */
    public float[] sIn() {
        return MixtureScales.floats(scales.sIn());
    }

    /** S_out [experts, out] as floats. */
    public float[] sOut() {
        return MixtureScales.floats(scales.sOut());
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

    private MemorySegment layout(SignKernel k) {
        MemorySegment l = layout;
        if (l == null) {
            synchronized (this) {
                l = layout;
                if (l == null) {
                    layout = l = k.layout(signs);
                }
            }
        }
        return l;
    }

    @Override
    public void apply(float[] x, float[] y, int tokens, Parallel parallel) {
        if ((long) tokens * in > x.length || (long) tokens * out > y.length) {
            throw new IllegalArgumentException(tokens + " tokens need x of " + (long) tokens * in + " and y of "
                    + (long) tokens * out + " floats, got " + x.length + " and " + y.length);
        }
        SignKernel k = kernel.implementation;
        MemorySegment bits = layout(k);
        int experts = scales.experts();
        Scratch scratch = SCRATCH.get();
        float[] rows = scratch.rows = scales.rows(scratch.rows);
        float[] gates = scratch.gates = Buffers.grown(scratch.gates, TOKEN_TILE * experts);
        for (int first = 0; first < tokens; first += TOKEN_TILE) {
            int n = Math.min(TOKEN_TILE, tokens - first);
            float[] xs = scratch.xs = Buffers.grown(scratch.xs, n * paddedIn);
            float[] sHatOut = scratch.sHatOut = Buffers.grown(scratch.sHatOut, n * out);
            scales.gates(x, first * in, n, gates);
            for (int t = 0; t < n; t++) {
                scales.scaleInput(x, (first + t) * in, gates, t * experts, rows, xs, t * paddedIn);
                // padding columns stay zero, so their signs never count (the buffer served other shapes before)
                Arrays.fill(xs, t * paddedIn + in, (t + 1) * paddedIn, 0f);
                scales.outScales(gates, t * experts, rows, sHatOut, t * out);
            }
            float[] prepared = k.prepare(xs, n, paddedIn, scratch.prepared);
            if (prepared != xs) {
                scratch.prepared = prepared;
            }
            int block = k.rowBlock();
            int blocks = (out + block - 1) / block;
            int grain = (int) Math.max(1, MIN_TASK_WEIGHTS / ((long) block * paddedIn * n));
            int yOff = first * out;
            parallel.forRange(blocks, grain, (from, to) ->
                    k.multiply(signs, bits, prepared, n, sHatOut, y, yOff, from * block, Math.min(to * block, out)));
        }
    }
}
