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
 * thread that then runs the product; then one unscaled ±1 product over the packed signs reads each row's
 * bits once for all tokens of the tile and multiplies each finished row by ŝ_out. Up to one tile per
 * thread runs at a time, each over all rows, so that each thread builds lookup tables that serve every row;
 * only when there are fewer tiles than threads are a tile's rows split between them (and its prologue runs
 * first, in the calling thread).
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
        Tile[] tiles = new Tile[0];
    }

    /** One tile's prologue results. */
    private static final class Tile {
        float[] gates = new float[0];
        float[] xs = new float[0];
        OutScales outScales;
        /** The kernel's buffer, kept for reuse. */
        float[] prepared = new float[0];
        /** What the product reads: prepared, or xs itself. */
        float[] view;
    }

    /** Work (weights × tokens) below which a thread hand-off costs more than it saves. */
    private static final long MIN_TASK_WEIGHTS = 1 << 18;

    /** Inner loop of the ±1 product. */
    public enum Kernel {
        /** Table lookup (T-MAC style) on 512- or 256-bit vectors: the fast path on AVX-512 and AVX2. */
        LUT(LutKernel.INSTANCE),
        /** Sign bits as vector masks: any vector width (the path for 128-bit vectors); half the speed of LUT on AVX-512. */
        MASKED(MaskedKernel.INSTANCE);

        private final SignKernel implementation;

        Kernel(SignKernel implementation) {
            this.implementation = implementation;
        }

        /** LUT where this machine has native vectors of 256 bits or more, else MASKED. */
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

    /** A tile of {@value #TOKEN_TILE} tokens per pass over the signs. */
    @Override
    public int tokensPerPass() {
        return TOKEN_TILE;
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
        Scratch scratch = SCRATCH.get();
        float[] rows = scratch.rows = scales.rows(scratch.rows);
        int threads = parallel.threads();
        if (scratch.tiles.length < threads) {
            Tile[] grown = Arrays.copyOf(scratch.tiles, threads);
            for (int i = scratch.tiles.length; i < threads; i++) {
                grown[i] = new Tile();
            }
            scratch.tiles = grown;
        }
        Tile[] tiles = scratch.tiles;
        int block = k.rowBlock();
        int blocks = (out + block - 1) / block;
        for (int first = 0; first < tokens; first += threads * TOKEN_TILE) {
            int count = Math.min(threads, (tokens - first + TOKEN_TILE - 1) / TOKEN_TILE);
            // each tile's rows in as many parts as leave no thread idle, each part worth a hand-off
            int parts = Math.min(blocks, (threads + count - 1) / count);
            // a tile in parts needs its prologue before either part; a whole tile's task makes its own
            for (int i = 0; parts > 1 && i < count; i++) {
                int from = first + i * TOKEN_TILE;
                prologue(x, from, Math.min(TOKEN_TILE, tokens - from), rows, tiles[i], k);
            }
            long partWork = (long) blocks / parts * block * paddedIn * Math.min(TOKEN_TILE, tokens - first);
            int grain = (int) Math.max(1, MIN_TASK_WEIGHTS / Math.max(1, partWork));
            int group = first;
            parallel.forRange(count * parts, grain, (from, to) -> {
                for (int task = from; task < to; task++) {
                    int i = task / parts;
                    int part = task % parts;
                    int tileFirst = group + i * TOKEN_TILE;
                    int n = Math.min(TOKEN_TILE, tokens - tileFirst);
                    Tile tile = tiles[i];
                    if (parts == 1) {
                        prologue(x, tileFirst, n, rows, tile, k);
                    }
                    k.multiply(signs, bits, tile.view, n, tile.outScales, y, tileFirst * out,
                            (int) ((long) blocks * part / parts) * block, Math.min((int) ((long) blocks * (part + 1) / parts) * block, out));
                }
            });
        }
    }

    /** g, xs and the kernel's data for the n tokens from first into tile (ŝ_out is made by the kernel). */
    private void prologue(float[] x, int first, int n, float[] rows, Tile tile, SignKernel k) {
        int experts = scales.experts();
        float[] gates = tile.gates = Buffers.grown(tile.gates, n * experts);
        float[] xs = tile.xs = Buffers.grown(tile.xs, n * paddedIn);
        scales.gates(x, first * in, n, gates);
        for (int t = 0; t < n; t++) {
            scales.scaleInput(x, (first + t) * in, gates, t * experts, rows, xs, t * paddedIn);
            // padding columns stay zero, so their signs never count (the buffer served other shapes before)
            Arrays.fill(xs, t * paddedIn + in, (t + 1) * paddedIn, 0f);
        }
        tile.outScales = new OutScales(scales, gates, rows);
        float[] prepared = k.prepare(xs, n, paddedIn, tile.prepared);
        if (prepared != xs) {
            tile.prepared = prepared;
        }
        tile.view = prepared;
    }
}
