package dev.binmos.engine.binarymos;

import dev.binmos.engine.util.Buffers;
import dev.binmos.engine.util.NativeMemory;
import dev.binmos.engine.util.ResidentPages;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Table lookup in the T-MAC style, for 512-bit vectors. Once per token, every group of 4 inputs gets a
 * table of its 16 signed sums (entry e = Σ_b ±xs[4g + b], minus where bit b of e is set), so a nibble of
 * sign bits selects its partial sum directly. Tables stay fp32: int8 tables (T-MAC's choice) miss the
 * 1e-4 accuracy bound by 50× or more (int16 only with a scale per 64 columns), and a float table is
 * exactly one 16-lane register for {@code vpermd}.
 * <p>
 * The lookup runs 16 rows at once (lane r = row r), so the row-major bits are transposed, once per
 * linear ({@link #layout}): per span of 8 words, 16 rows × 8 words become 16 vectors of one 32-bit
 * half-word for 16 rows, and each vector then serves 8 lookups (its 8 nibbles: shift, table permute,
 * add = 64 weights per 16 lanes). Blocks of 32 rows share every table load, and each span's bits serve
 * all tokens of the tile. Rows are swept panel by panel, a panel being as many words as keep all tokens'
 * tables within 256 KB (half an L2): for one token that is the whole row, so each block reads its rows
 * front to back. Partial sums wait in y between spans.
 */
final class LutKernel implements SignKernel {
    static final LutKernel INSTANCE = new LutKernel();

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Long> L = LongVector.SPECIES_512;
    /** Rows per vector and entries per table. */
    static final int LANES = 16;
    static final int BLOCK = 2 * LANES;
    /** Words per span: one 512-bit load per row. */
    static final int SPAN = 8;
    /** Floats of tables per 64-bit word of inputs: 16 groups × 16 entries. */
    private static final int TABLE_PER_WORD = 256;
    /** Table floats of all tokens per panel of words: 256 KB, half an L2. */
    private static final int PANEL_TABLES = 1 << 16;
    /** Transposed half-words of one 16-row vector for a span. */
    static final int BITS_PER_VECTOR = 2 * SPAN * LANES;
    /** Bytes of the transposed bits of one block of 32 rows and one span. */
    static final long BLOCK_SPAN_BYTES = 2L * BITS_PER_VECTOR * Integer.BYTES;

    /** PATTERN[b][e] = −1 where bit b of e is set, else +1. */
    private static final FloatVector[] PATTERN = new FloatVector[4];
    /** 8 × 8 transpose of 64-bit lanes in three rounds of two-vector selects. */
    private static final LongVector ROUND1_LO = longs(0, 8, 1, 9, 2, 10, 3, 11);
    private static final LongVector ROUND1_HI = longs(4, 12, 5, 13, 6, 14, 7, 15);
    private static final LongVector ROUND2_LO = longs(0, 1, 8, 9, 2, 3, 10, 11);
    private static final LongVector ROUND2_HI = longs(4, 5, 12, 13, 6, 7, 14, 15);
    private static final LongVector ROUND3_LO = longs(0, 1, 2, 3, 8, 9, 10, 11);
    private static final LongVector ROUND3_HI = longs(4, 5, 6, 7, 12, 13, 14, 15);
    /** Low (even) and high (odd) 32-bit halves of two 8-row word vectors, as one 16-row vector each. */
    private static final IntVector LOW_HALVES;
    private static final IntVector HIGH_HALVES;

    static {
        for (int b = 0; b < 4; b++) {
            float[] signs = new float[LANES];
            for (int e = 0; e < LANES; e++) {
                signs[e] = (e >>> b & 1) != 0 ? -1f : 1f;
            }
            PATTERN[b] = FloatVector.fromArray(F, signs, 0);
        }
        int[] low = new int[LANES];
        int[] high = new int[LANES];
        for (int r = 0; r < LANES; r++) {
            low[r] = 2 * r;
            high[r] = 2 * r + 1;
        }
        LOW_HALVES = IntVector.fromArray(I, low, 0);
        HIGH_HALVES = IntVector.fromArray(I, high, 0);
    }

    private LutKernel() {
    }

    private static LongVector longs(long... values) {
        return LongVector.fromArray(L, values, 0);
    }

    /** Whether this machine runs 512-bit vectors natively (otherwise the kernel would be emulated). */
    static boolean supported() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;
    }

    @Override
    public int rowBlock() {
        return BLOCK;
    }

    /**
     * Tiles of at least this many tokens take {@link LutTokenLanes}, where a lookup serves 8 weights of
     * every token at once. Below it the lookup per token is cheaper: a 32-lane pass costs as much as
     * 20 to 23 single tokens (JMH, 4096 and 11008 rows).
     */
    static final int TOKEN_LANES_FROM = 20;

    /**
     * Tables: for token t and group g, 16 floats at (t · paddedIn / 4 + g) · 16; or, for a tile of
     * {@link #TOKEN_LANES_FROM} tokens or more, xs by column ({@link LutTokenLanes#columns}).
     */
    @Override
    public float[] prepare(float[] xs, int tokens, int paddedIn, float[] reuse) {
        if (tokens >= TOKEN_LANES_FROM) {
            return LutTokenLanes.columns(xs, tokens, paddedIn, reuse);
        }
        float[] tables = Buffers.grown(reuse, tokens * paddedIn * 4);
        for (int c = 0, dst = 0; c < tokens * paddedIn; c += 4, dst += LANES) {
            FloatVector sums = PATTERN[0].mul(xs[c]);
            sums = PATTERN[1].fma(FloatVector.broadcast(F, xs[c + 1]), sums);
            sums = PATTERN[2].fma(FloatVector.broadcast(F, xs[c + 2]), sums);
            sums = PATTERN[3].fma(FloatVector.broadcast(F, xs[c + 3]), sums);
            sums.intoArray(tables, dst);
        }
        return tables;
    }

    /**
     * The bits transposed for the lookup: block b of 32 rows and span s of 8 words at (b · spans + s) ·
     * {@link #BLOCK_SPAN_BYTES}, as {@link #transpose} makes them. Native memory, the size of the signs;
     * the row-major words it was made from are then given back (see {@link ResidentPages}).
     */
    @Override
    public MemorySegment layout(PackedSigns signs) {
        int wpr = signs.wordsPerRow();
        int spans = (wpr + SPAN - 1) / SPAN;
        int blocks = (signs.rows() + BLOCK - 1) / BLOCK;
        MemorySegment layout = NativeMemory.allocate(BLOCK_SPAN_BYTES * blocks * spans);
        long[] words = new long[2 * SPAN * SPAN];
        int[] bits = new int[2 * BITS_PER_VECTOR];
        for (int b = 0; b < blocks; b++) {
            for (int j = 0; j < spans; j++) {
                int spanWords = Math.min(SPAN, wpr - j * SPAN);
                transpose(signs, b * BLOCK, j * SPAN, spanWords, words, bits, 0);
                transpose(signs, b * BLOCK + LANES, j * SPAN, spanWords, words, bits, BITS_PER_VECTOR);
                MemorySegment.copy(bits, 0, layout, ValueLayout.JAVA_INT, spanOffset(b, j, spans), bits.length);
            }
        }
        ResidentPages.release(signs.segment());
        return layout;
    }

    /** Byte offset in the layout of block b (rows 32 · b..) and span j (words 8 · j..), of spans per block. */
    static long spanOffset(int b, int j, int spans) {
        return ((long) b * spans + j) * BLOCK_SPAN_BYTES;
    }

    @Override
    public void multiply(PackedSigns signs, MemorySegment layout, float[] tables, int tokens, float[] sHatOut,
                         float[] y, int yOff, int rowFrom, int rowTo) {
        if (tokens >= TOKEN_LANES_FROM) {
            LutTokenLanes.multiply(signs, layout, tables, tokens, sHatOut, y, yOff, rowFrom, rowTo);
            return;
        }
        int wpr = signs.wordsPerRow();
        int out = signs.rows();
        int spans = (wpr + SPAN - 1) / SPAN;
        int panel = Math.max(SPAN, PANEL_TABLES / (tokens * TABLE_PER_WORD) / SPAN * SPAN);
        for (int p0 = 0; p0 < wpr; p0 += panel) {
            for (int o = rowFrom; o < rowTo; o += BLOCK) {
                for (int j0 = p0; j0 < Math.min(wpr, p0 + panel); j0 += SPAN) {
                    int spanWords = Math.min(SPAN, wpr - j0);
                    long bits = spanOffset(o / BLOCK, j0 / SPAN, spans);
                    for (int t = 0; t < tokens; t++) {
                        span(tables, (t * wpr + j0) * TABLE_PER_WORD, layout, bits, 2 * spanWords, y, yOff + t * out + o, rowTo - o,
                                j0 == 0, j0 + SPAN >= wpr, sHatOut, t * out + o);
                    }
                }
            }
        }
    }

    /**
     * One span of one token for a block of 32 rows o..: y[yo + r] (r &lt; rows) = its partial sum so far (zero
     * if first) + the lookups of this span, times ŝ_out (sHatOut[so + r]) if last.
     * A method of its own, called thousands of times per product, so that it is compiled early: the
     * Vector API is very slow until it is.
     */
    private static void span(float[] tables, int table, MemorySegment layout, long bits, int halves, float[] y, int yo, int rows,
                             boolean first, boolean last, float[] sHatOut, int so) {
        VectorMask<Float> m0 = F.indexInRange(0, rows);
        VectorMask<Float> m1 = F.indexInRange(LANES, rows);
        FloatVector a0 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, y, yo, m0);
        FloatVector a1 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, y, yo + LANES, m1);
        for (int h = 0; h < halves; h++, table += TABLE_PER_WORD / 2) {
            IntVector w0 = IntVector.fromMemorySegment(I, layout, bits + (long) h * LANES * Integer.BYTES, ByteOrder.nativeOrder());
            IntVector w1 = IntVector.fromMemorySegment(I, layout, bits + (long) (BITS_PER_VECTOR + h * LANES) * Integer.BYTES,
                    ByteOrder.nativeOrder());
            // nibbles in pairs: a byte's two sums are added first, as LutTokenLanes adds them
            for (int q = 0; q < 8; q += 2) {
                // the select wraps indices mod 16, which masks the nibble for free
                IntVector lo = FloatVector.fromArray(F, tables, table + q * LANES).reinterpretAsInts();
                IntVector hi = FloatVector.fromArray(F, tables, table + (q + 1) * LANES).reinterpretAsInts();
                a0 = a0.add(w0.lanewise(VectorOperators.LSHR, 4 * q).selectFrom(lo).reinterpretAsFloats()
                        .add(w0.lanewise(VectorOperators.LSHR, 4 * q + 4).selectFrom(hi).reinterpretAsFloats()));
                a1 = a1.add(w1.lanewise(VectorOperators.LSHR, 4 * q).selectFrom(lo).reinterpretAsFloats()
                        .add(w1.lanewise(VectorOperators.LSHR, 4 * q + 4).selectFrom(hi).reinterpretAsFloats()));
            }
        }
        if (last) {
            a0 = a0.mul(FloatVector.fromArray(F, sHatOut, so, m0));
            a1 = a1.mul(FloatVector.fromArray(F, sHatOut, so + LANES, m1));
        }
        a0.intoArray(y, yo, m0);
        a1.intoArray(y, yo + LANES, m1);
    }

    /**
     * bits[off + h · 16 + r] = half-word h (low half of word j0 + h / 2 for even h, high half for odd) of
     * row o + r. Rows past the matrix repeat its last row (their results are masked off); words past the
     * row read as zero.
     */
    private static void transpose(PackedSigns signs, int o, int j0, int spanWords, long[] words, int[] bits, int off) {
        VectorMask<Long> wordMask = L.indexInRange(0, spanWords);
        transpose8(signs, o, j0, wordMask, words, 0);
        transpose8(signs, o + SPAN, j0, wordMask, words, SPAN * SPAN);
        for (int j = 0; j < SPAN; j++) {
            IntVector rows0to7 = LongVector.fromArray(L, words, j * SPAN).reinterpretAsInts();
            IntVector rows8to15 = LongVector.fromArray(L, words, SPAN * SPAN + j * SPAN).reinterpretAsInts();
            LOW_HALVES.selectFrom(rows0to7, rows8to15).intoArray(bits, off + 2 * j * LANES);
            HIGH_HALVES.selectFrom(rows0to7, rows8to15).intoArray(bits, off + (2 * j + 1) * LANES);
        }
    }

    /** words[off + j · 8 + r] = word j0 + j of row o + r, for 8 rows and 8 words. */
    private static void transpose8(PackedSigns signs, int o, int j0, VectorMask<Long> wordMask, long[] words, int off) {
        MemorySegment segment = signs.segment();
        int lastRow = signs.rows() - 1;
        long rowBytes = (long) signs.wordsPerRow() * Long.BYTES;
        long start = (long) j0 * Long.BYTES;
        LongVector r0 = load(segment, start + Math.min(o, lastRow) * rowBytes, wordMask);
        LongVector r1 = load(segment, start + Math.min(o + 1, lastRow) * rowBytes, wordMask);
        LongVector r2 = load(segment, start + Math.min(o + 2, lastRow) * rowBytes, wordMask);
        LongVector r3 = load(segment, start + Math.min(o + 3, lastRow) * rowBytes, wordMask);
        LongVector r4 = load(segment, start + Math.min(o + 4, lastRow) * rowBytes, wordMask);
        LongVector r5 = load(segment, start + Math.min(o + 5, lastRow) * rowBytes, wordMask);
        LongVector r6 = load(segment, start + Math.min(o + 6, lastRow) * rowBytes, wordMask);
        LongVector r7 = load(segment, start + Math.min(o + 7, lastRow) * rowBytes, wordMask);
        LongVector a01 = ROUND1_LO.selectFrom(r0, r1);
        LongVector b01 = ROUND1_HI.selectFrom(r0, r1);
        LongVector a23 = ROUND1_LO.selectFrom(r2, r3);
        LongVector b23 = ROUND1_HI.selectFrom(r2, r3);
        LongVector a45 = ROUND1_LO.selectFrom(r4, r5);
        LongVector b45 = ROUND1_HI.selectFrom(r4, r5);
        LongVector a67 = ROUND1_LO.selectFrom(r6, r7);
        LongVector b67 = ROUND1_HI.selectFrom(r6, r7);
        LongVector c0 = ROUND2_LO.selectFrom(a01, a23);
        LongVector c1 = ROUND2_HI.selectFrom(a01, a23);
        LongVector c2 = ROUND2_LO.selectFrom(b01, b23);
        LongVector c3 = ROUND2_HI.selectFrom(b01, b23);
        LongVector d0 = ROUND2_LO.selectFrom(a45, a67);
        LongVector d1 = ROUND2_HI.selectFrom(a45, a67);
        LongVector d2 = ROUND2_LO.selectFrom(b45, b67);
        LongVector d3 = ROUND2_HI.selectFrom(b45, b67);
        ROUND3_LO.selectFrom(c0, d0).intoArray(words, off);
        ROUND3_HI.selectFrom(c0, d0).intoArray(words, off + SPAN);
        ROUND3_LO.selectFrom(c1, d1).intoArray(words, off + 2 * SPAN);
        ROUND3_HI.selectFrom(c1, d1).intoArray(words, off + 3 * SPAN);
        ROUND3_LO.selectFrom(c2, d2).intoArray(words, off + 4 * SPAN);
        ROUND3_HI.selectFrom(c2, d2).intoArray(words, off + 5 * SPAN);
        ROUND3_LO.selectFrom(c3, d3).intoArray(words, off + 6 * SPAN);
        ROUND3_HI.selectFrom(c3, d3).intoArray(words, off + 7 * SPAN);
    }

    private static LongVector load(MemorySegment segment, long offset, VectorMask<Long> wordMask) {
        return LongVector.fromMemorySegment(L, segment, offset, ByteOrder.LITTLE_ENDIAN, wordMask);
    }
}
