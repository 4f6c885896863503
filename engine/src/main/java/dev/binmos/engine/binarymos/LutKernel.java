package dev.binmos.engine.binarymos;

import dev.binmos.engine.util.Buffers;
import dev.binmos.engine.util.NativeMemory;
import dev.binmos.engine.util.ResidentPages;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Table lookup in the T-MAC style, for 512- or 256-bit vectors. Once per token, every group of 4 inputs gets a
 * table of its 16 signed sums (entry e = Σ_b ±xs[4g + b], minus where bit b of e is set), so a nibble of
 * sign bits selects its partial sum directly. Tables stay fp32: int8 tables (T-MAC's choice) miss the
 * 1e-4 accuracy bound by 50× or more (int16 only with a scale per 64 columns), and a float table is
 * exactly one 16-lane register for {@code vpermd} (on AVX2 two 8-lane registers, two {@code vpermd} and a
 * blend on the nibble's top bit: the same floats either way).
 * <p>
 * The lookup runs 16 rows at once (lane r = row r; 8 rows per register on AVX2), so the row-major bits are
 * transposed, once per linear ({@link #layout}): per span of 8 words, 16 rows × 8 words become 16 vectors of
 * one 32-bit half-word for 16 rows, and each vector then serves 8 lookups (its 8 nibbles: shift, table
 * permute, add = 64 weights per 16 lanes). Blocks of 32 rows share every table load, and each span's bits
 * serve all tokens of the tile. The layout lies span by span, and the product sweeps it so: all blocks
 * of a span, then the next, each span's tables (8 KB a token) staying in L1, and partial sums waiting in y
 * between spans.
 */
final class LutKernel implements SignKernel {
    static final LutKernel INSTANCE = new LutKernel();

    /** 512-bit vectors (one register per table), else 256-bit (two). */
    static final boolean WIDE = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;
    static final VectorSpecies<Float> F = WIDE ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = WIDE ? IntVector.SPECIES_512 : IntVector.SPECIES_256;
    /** Lanes per register. */
    private static final int V = F.length();
    /** Rows per vector and entries per table. */
    static final int LANES = 16;
    static final int BLOCK = 2 * LANES;
    /** Words per span: one 512-bit load per row. */
    static final int SPAN = 8;
    /** Floats of tables per 64-bit word of inputs: 16 groups × 16 entries. */
    private static final int TABLE_PER_WORD = 256;
    /** Transposed half-words of one 16-row vector for a span. */
    static final int BITS_PER_VECTOR = 2 * SPAN * LANES;
    /** Bytes of the transposed bits of one block of 32 rows and one span. */
    static final long BLOCK_SPAN_BYTES = 2L * BITS_PER_VECTOR * Integer.BYTES;
    /** Byte distance in the layout from the bits of a pair's first register to those of its second. */
    private static final long SECOND_REGISTER = (WIDE ? BITS_PER_VECTOR : V) * (long) Integer.BYTES;

    /** Lanes e of PATTERN[b · 16 / V + e / V] = −1 where bit b of e is set, else +1. */
    private static final FloatVector[] PATTERN = new FloatVector[4 * LANES / V];
    static {
        for (int b = 0; b < 4; b++) {
            float[] signs = new float[LANES];
            for (int e = 0; e < LANES; e++) {
                signs[e] = (e >>> b & 1) != 0 ? -1f : 1f;
            }
            for (int p = 0; p < LANES / V; p++) {
                PATTERN[b * LANES / V + p] = FloatVector.fromArray(F, signs, p * V);
            }
        }
    }

    private LutKernel() {
    }

    /** Whether this machine runs 256-bit vectors or wider natively (otherwise the kernel would be emulated). */
    static boolean supported() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;
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
        int pieces = LANES / V;
        for (int c = 0, dst = 0; c < tokens * paddedIn; c += 4, dst += LANES) {
            for (int p = 0; p < pieces; p++) {
                FloatVector sums = PATTERN[p].mul(xs[c]);
                sums = PATTERN[pieces + p].fma(FloatVector.broadcast(F, xs[c + 1]), sums);
                sums = PATTERN[2 * pieces + p].fma(FloatVector.broadcast(F, xs[c + 2]), sums);
                sums = PATTERN[3 * pieces + p].fma(FloatVector.broadcast(F, xs[c + 3]), sums);
                sums.intoArray(tables, dst + p * V);
            }
        }
        return tables;
    }

    /**
     * The bits transposed for the lookup: block b of 32 rows and span s of 8 words at {@link #spanOffset},
     * as {@link #transpose} makes them. Native memory, the size of the signs;
     * the row-major words it was made from are then given back (see {@link ResidentPages}).
     */
    @Override
    public MemorySegment layout(PackedSigns signs) {
        int wpr = signs.wordsPerRow();
        int spans = (wpr + SPAN - 1) / SPAN;
        int blocks = (signs.rows() + BLOCK - 1) / BLOCK;
        MemorySegment layout = NativeMemory.allocate(BLOCK_SPAN_BYTES * blocks * spans);
        int[] bits = new int[2 * BITS_PER_VECTOR];
        for (int b = 0; b < blocks; b++) {
            for (int j = 0; j < spans; j++) {
                int spanWords = Math.min(SPAN, wpr - j * SPAN);
                transpose(signs, b * BLOCK, j * SPAN, spanWords, bits, 0);
                transpose(signs, b * BLOCK + LANES, j * SPAN, spanWords, bits, BITS_PER_VECTOR);
                MemorySegment.copy(bits, 0, layout, ValueLayout.JAVA_INT, spanOffset(b, j, blocks), bits.length);
            }
        }
        ResidentPages.release(signs.segment());
        return layout;
    }

    /**
     * Byte offset in the layout of block b (rows 32 · b..) and span j (words 8 · j..), of blocks per span:
     * span by span, so that the blocks of a span, which every pass over a span reads in turn, lie one after
     * the other.
     */
    static long spanOffset(int b, int j, int blocks) {
        return ((long) j * blocks + b) * BLOCK_SPAN_BYTES;
    }

    @Override
    public void multiply(PackedSigns signs, MemorySegment layout, float[] tables, int tokens, OutScales outScales,
                         float[] y, int yOff, int rowFrom, int rowTo) {
        if (tokens >= TOKEN_LANES_FROM) {
            LutTokenLanes.multiply(signs, layout, tables, tokens, outScales, y, yOff, rowFrom, rowTo);
            return;
        }
        int wpr = signs.wordsPerRow();
        int out = signs.rows();
        float[] sHatOut = outScales.forRows(tokens, out, rowFrom, rowTo);
        int blocks = (out + BLOCK - 1) / BLOCK;
        // span by span over the rows, as the layout lies; each row's partial sum waits in y between spans
        for (int j0 = 0; j0 < wpr; j0 += SPAN) {
            int spanWords = Math.min(SPAN, wpr - j0);
            for (int o = rowFrom; o < rowTo; o += BLOCK) {
                long bits = spanOffset(o / BLOCK, j0 / SPAN, blocks);
                for (int t = 0; t < tokens; t++) {
                    span(tables, (t * wpr + j0) * TABLE_PER_WORD, layout, bits, 2 * spanWords, y, yOff + t * out + o, rowTo - o,
                            j0 == 0, j0 + SPAN >= wpr, sHatOut, t * out + o);
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
        pair(tables, table, layout, bits, halves, y, yo, rows, first, last, sHatOut, so);
        // with 8-lane registers, a pair covers one of the block's two 16-row vectors; one method for all four
        // registers grew past C2's inlining cutoff, and the vector operations it left out ran 10× slower
        if (!WIDE && rows > LANES) {
            pair(tables, table, layout, bits + (long) BITS_PER_VECTOR * Integer.BYTES, halves, y, yo + LANES, rows - LANES, first, last,
                    sHatOut, so + LANES);
        }
    }

    /** {@link #span} for the 2 · V rows of two registers: rows 0 .. V − 1 of them at bits, the rest at bits + {@link #SECOND_REGISTER}. */
    private static void pair(float[] tables, int table, MemorySegment layout, long bits, int halves, float[] y, int yo, int rows,
                             boolean first, boolean last, float[] sHatOut, int so) {
        VectorMask<Float> m0 = F.indexInRange(0, rows);
        VectorMask<Float> m1 = F.indexInRange(V, rows);
        FloatVector a0 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, y, yo, m0);
        FloatVector a1 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, y, yo + V, m1);
        for (int h = 0; h < halves; h++, table += TABLE_PER_WORD / 2) {
            long at = bits + (long) h * LANES * Integer.BYTES;
            IntVector w0 = IntVector.fromMemorySegment(I, layout, at, ByteOrder.nativeOrder());
            IntVector w1 = IntVector.fromMemorySegment(I, layout, at + SECOND_REGISTER, ByteOrder.nativeOrder());
            // nibbles in pairs: a byte's two sums are added first, as LutTokenLanes adds them
            for (int q = 0; q < 8; q += 2) {
                int lo = table + q * LANES;
                int hi = lo + LANES;
                a0 = a0.add(pick(w0, 4 * q, tables, lo).add(pick(w0, 4 * q + 4, tables, hi)));
                a1 = a1.add(pick(w1, 4 * q, tables, lo).add(pick(w1, 4 * q + 4, tables, hi)));
            }
        }
        if (last) {
            a0 = a0.mul(FloatVector.fromArray(F, sHatOut, so, m0));
            a1 = a1.mul(FloatVector.fromArray(F, sHatOut, so + V, m1));
        }
        a0.intoArray(y, yo, m0);
        a1.intoArray(y, yo + V, m1);
    }

    /**
     * Entry (bits &gt;&gt;&gt; shift) mod 16, per lane, of the 16-entry table at tables[at]. Both lanes of a pair
     * read the same table, and C2 loads it once (no store comes between).
     */
    private static FloatVector pick(IntVector bits, int shift, float[] tables, int at) {
        IntVector nibble = bits.lanewise(VectorOperators.LSHR, shift);
        IntVector low = FloatVector.fromArray(F, tables, at).reinterpretAsInts();
        if (WIDE) {
            // the select wraps indices mod 16, which masks the nibble for free
            return nibble.selectFrom(low).reinterpretAsFloats();
        }
        // entries 8–15 in a second register: the select wraps indices mod 8, and bit 3, moved to the sign,
        // picks the register
        IntVector high = FloatVector.fromArray(F, tables, at + V).reinterpretAsInts();
        VectorMask<Integer> upper = nibble.lanewise(VectorOperators.LSHL, 28).compare(VectorOperators.LT, 0);
        return nibble.selectFrom(low).blend(nibble.selectFrom(high), upper).reinterpretAsFloats();
    }

    /**
     * bits[off + h · 16 + r] = half-word h (low half of word j0 + h / 2 for even h, high half for odd) of
     * row o + r. Rows past the matrix repeat its last row (their results are masked off); words past the
     * row read as zero.
     */
    private static void transpose(PackedSigns signs, int o, int j0, int spanWords, int[] bits, int off) {
        int lastRow = signs.rows() - 1;
        for (int r = 0; r < LANES; r++) {
            int row = Math.min(o + r, lastRow);
            for (int j = 0; j < SPAN; j++) {
                long word = j < spanWords ? signs.word(row, j0 + j) : 0L;
                bits[off + 2 * j * LANES + r] = (int) word;
                bits[off + (2 * j + 1) * LANES + r] = (int) (word >>> 32);
            }
        }
    }
}
