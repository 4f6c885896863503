package dev.binmos.engine.binarymos;

import dev.binmos.engine.util.Buffers;
import dev.binmos.engine.util.NativeMemory;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The LUT product for a tile of many tokens, with tokens in the vector lanes instead of rows. One table
 * per byte of signs (8 inputs, 256 entries of {@value #TOKENS} tokens = 32 KB), so one index serves 8
 * weights of 32 tokens with two loads and two adds (four of each on AVX2), where a decode lookup (a shift,
 * a permute, an add) serves 4 weights of 16 rows. Tables are built per panel of {@value #PANEL_GROUPS} bytes
 * (256 KB, a quarter of L2) by each thread for its own rows, whose bits it first copies, a span at a time
 * ({@link #bitsOffset}), and partial sums wait in a per-thread buffer between panels. The
 * tables live in 64-byte aligned native memory: in a float[] every entry straddles cache lines, and the
 * lookups measured 1.4× slower.
 * <p>
 * Every float is the one the decode path computes, so a token gets the same result alone as in a tile:
 * entry (hi, lo) is the decode path's nibble sum for lo plus its nibble sum for hi, each nibble sum being
 * ((±x₀ ± x₁) ± x₂) ± x₃ in that order, and each row adds its byte sums in column order, from zero.
 */
final class LutTokenLanes {
    private static final VectorSpecies<Float> F = LutKernel.F;
    private static final int VECTOR = F.length();
    /** Tokens per tile: two 512-bit vectors per table entry (four 256-bit). */
    static final int TOKENS = 32;
    /** Rows per {@link #lookup}: eight accumulators. */
    static final int LOOKUP_ROWS = LutKernel.WIDE ? 4 : 2;
    /** Columns or rows per stripe where a tile is transposed (see {@link #columns}). */
    private static final int STRIPE = 16;
    /**
     * Tables per panel: 2 half-words of the transposed bits, an eighth of a span. 256 KB leave L2 room for
     * the partial sums of the rows (128 bytes each, 512 KB for 4096 rows); once a thread swept all rows,
     * panels of 16 tables measured 1.05 to 1.11× slower, of 4 tables 1.02 to 1.10× (bench/ab, 7B shapes).
     */
    private static final int PANEL_GROUPS = 8;
    private static final int PANEL_HALVES = PANEL_GROUPS / 4;
    private static final int ENTRY_BYTES = TOKENS * Float.BYTES;
    static final long TABLE_BYTES = 256L * ENTRY_BYTES;
    /** Floats of one group's 16 nibble sums. */
    private static final int NIBBLES = 16 * TOKENS;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        final MemorySegment tables = NativeMemory.allocate(PANEL_GROUPS * TABLE_BYTES);
        final float[] nibbles = new float[2 * NIBBLES];
        MemorySegment bits = MemorySegment.NULL;
        float[] sums = new float[0];
        /** ŝ_out of one token for a stripe of rows. */
        final float[] stripe = new float[STRIPE];
    }

    private LutTokenLanes() {
    }

    /** xs by column: {@value #TOKENS} lanes (tokens, zero past tokens) of column c at c · {@value #TOKENS}. */
    static float[] columns(float[] xs, int tokens, int paddedIn, float[] reuse) {
        float[] columns = Buffers.grown(reuse, paddedIn * TOKENS);
        // by stripes of 16 columns: a token's row is paddedIn floats apart from the next, often a multiple
        // of 4 KB, so walking all tokens per column would evict each line before its next column is read
        for (int c0 = 0; c0 < paddedIn; c0 += STRIPE) {
            for (int t = 0; t < TOKENS; t++) {
                for (int c = c0; c < c0 + STRIPE; c++) {
                    columns[c * TOKENS + t] = t < tokens ? xs[t * paddedIn + c] : 0f;
                }
            }
        }
        return columns;
    }

    /** Rows [rowFrom, rowTo) of up to {@value #TOKENS} tokens, as {@link SignKernel#multiply}. */
    static void multiply(PackedSigns signs, MemorySegment layout, float[] columns, int tokens, OutScales outScales,
                         float[] y, int yOff, int rowFrom, int rowTo) {
        int wpr = signs.wordsPerRow();
        int out = signs.rows();
        int halves = 2 * wpr;
        int blocks = (out + LutKernel.BLOCK - 1) / LutKernel.BLOCK;
        Scratch scratch = SCRATCH.get();
        MemorySegment tables = scratch.tables;
        // rowFrom is a multiple of 32 (a kernel block)
        long bitsBytes = (rowTo - rowFrom + LutKernel.BLOCK - 1) / LutKernel.BLOCK * LutKernel.BLOCK_SPAN_BYTES;
        if (scratch.bits.byteSize() < bitsBytes) {
            scratch.bits = NativeMemory.allocate(bitsBytes);
        }
        MemorySegment bits = scratch.bits;
        float[] sums = scratch.sums = Buffers.grown(scratch.sums, (rowTo - rowFrom) * TOKENS);
        for (int h0 = 0; h0 < halves; h0 += PANEL_HALVES) {
            int n = Math.min(PANEL_HALVES, halves - h0);
            for (int g = 0; g < 4 * n; g++) {
                byteTable(columns, (4 * h0 + g) * 8 * TOKENS, scratch.nibbles, tables, g * TABLE_BYTES);
            }
            int inSpan = h0 % (2 * LutKernel.SPAN);
            if (inSpan == 0) {
                MemorySegment.copy(layout, LutKernel.spanOffset(rowFrom / LutKernel.BLOCK, h0 / (2 * LutKernel.SPAN), blocks), bits, 0,
                        bitsBytes);
            }
            long panel = (long) inSpan * LutKernel.LANES * Integer.BYTES;
            boolean first = h0 == 0;
            int r = rowFrom;
            // the rows of a lookup lie in one transposed vector
            for (; r + LOOKUP_ROWS <= rowTo; r += LOOKUP_ROWS) {
                lookup(tables, bits, bitsOffset(r - rowFrom) + panel, n, sums, (r - rowFrom) * TOKENS, first);
            }
            for (; r < rowTo; r++) {
                lookup1(tables, bits, bitsOffset(r - rowFrom) + panel, n, sums, (r - rowFrom) * TOKENS, first);
            }
        }
        // by stripes of 16 rows, for the same reason as in columns: y holds tokens out floats apart
        float[] stripe = scratch.stripe;
        for (int r0 = rowFrom; r0 < rowTo; r0 += STRIPE) {
            int r1 = Math.min(rowTo, r0 + STRIPE);
            for (int t = 0; t < tokens; t++) {
                outScales.fill(t, r0, r1, stripe, 0);
                for (int r = r0; r < r1; r++) {
                    y[yOff + t * out + r] = sums[(r - rowFrom) * TOKENS + t] * stripe[r - r0];
                }
            }
        }
    }

    /**
     * Byte offset in a span's bits, copied once per span (eight panels), of row rowFrom + r, at the span's
     * first half-word. The lookups read each block's bits for a panel (256 of its 2 KB) in every pass, and
     * from the shared layout they measured 1.09 to 1.19× slower than from a thread's own copy (bench/ab, 7B
     * shapes, 64 tokens, 2 threads).
     */
    static long bitsOffset(int r) {
        int lane = r % LutKernel.BLOCK;
        return (r / LutKernel.BLOCK) * LutKernel.BLOCK_SPAN_BYTES + (long) (lane / LutKernel.LANES) * LutKernel.BITS_PER_VECTOR * Integer.BYTES
                + (lane % LutKernel.LANES) * Integer.BYTES;
    }

    /**
     * Entry e = hi · 16 + lo of the table at byte dst: the nibble sums of columns c.. (lo) and c + 4.. (hi)
     * of every token, added.
     */
    private static void byteTable(float[] columns, int c, float[] nibbles, MemorySegment tables, long dst) {
        nibbleTable(columns, c, nibbles, 0);
        nibbleTable(columns, c + 4 * TOKENS, nibbles, NIBBLES);
        for (int hi = 0; hi < 16; hi++) {
            long entry = dst + hi * 16L * ENTRY_BYTES;
            for (int lo = 0; lo < 16; lo++, entry += ENTRY_BYTES) {
                for (int v = 0; v < TOKENS; v += VECTOR) {
                    FloatVector.fromArray(F, nibbles, lo * TOKENS + v).add(FloatVector.fromArray(F, nibbles, NIBBLES + hi * TOKENS + v))
                            .intoMemorySegment(tables, entry + v * Float.BYTES, ORDER);
                }
            }
        }
    }

    /** nibbles[dst + e · 32 + t] = Σ_b ±x[c/32 + b] of token t, minus where bit b of e is set, added in b order. */
    private static void nibbleTable(float[] columns, int c, float[] nibbles, int dst) {
        for (int v = 0; v < TOKENS; v += VECTOR) {
            FloatVector x0 = FloatVector.fromArray(F, columns, c + v);
            FloatVector x1 = FloatVector.fromArray(F, columns, c + TOKENS + v);
            FloatVector x2 = FloatVector.fromArray(F, columns, c + 2 * TOKENS + v);
            FloatVector x3 = FloatVector.fromArray(F, columns, c + 3 * TOKENS + v);
            for (int e = 0; e < 16; e++) {
                FloatVector s = (e & 1) != 0 ? x0.neg() : x0;
                s = (e & 2) != 0 ? s.sub(x1) : s.add(x1);
                s = (e & 4) != 0 ? s.sub(x2) : s.add(x2);
                s = (e & 8) != 0 ? s.sub(x3) : s.add(x3);
                s.intoArray(nibbles, dst + e * TOKENS + v);
            }
        }
    }

    /**
     * {@value #LOOKUP_ROWS} rows (consecutive lanes of one transposed vector) over n half-words of the panel;
     * timed alone by bench/lookup.
     */
    static void lookup(MemorySegment tables, MemorySegment layout, long bits, int n, float[] sums, int s, boolean first) {
        if (LutKernel.WIDE) {
            lookup4(tables, layout, bits, n, sums, s, first);
        } else {
            lookup2(tables, layout, bits, n, sums, s, first);
        }
    }

    /** Four rows, two 512-bit vectors each. */
    private static void lookup4(MemorySegment tables, MemorySegment layout, long bits, int n, float[] sums, int s, boolean first) {
        FloatVector a0 = sum(sums, s, first);
        FloatVector b0 = sum(sums, s + VECTOR, first);
        FloatVector a1 = sum(sums, s + TOKENS, first);
        FloatVector b1 = sum(sums, s + TOKENS + VECTOR, first);
        FloatVector a2 = sum(sums, s + 2 * TOKENS, first);
        FloatVector b2 = sum(sums, s + 2 * TOKENS + VECTOR, first);
        FloatVector a3 = sum(sums, s + 3 * TOKENS, first);
        FloatVector b3 = sum(sums, s + 3 * TOKENS + VECTOR, first);
        long table = 0;
        for (int i = 0; i < n; i++, bits += LutKernel.LANES * Integer.BYTES) {
            int w0 = layout.get(ValueLayout.JAVA_INT, bits);
            int w1 = layout.get(ValueLayout.JAVA_INT, bits + 4);
            int w2 = layout.get(ValueLayout.JAVA_INT, bits + 8);
            int w3 = layout.get(ValueLayout.JAVA_INT, bits + 12);
            for (int k = 0; k < 32; k += 8, table += TABLE_BYTES) {
                long e0 = entry(table, w0 >>> k);
                long e1 = entry(table, w1 >>> k);
                long e2 = entry(table, w2 >>> k);
                long e3 = entry(table, w3 >>> k);
                a0 = a0.add(load(tables, e0));
                b0 = b0.add(load(tables, e0 + VECTOR * Float.BYTES));
                a1 = a1.add(load(tables, e1));
                b1 = b1.add(load(tables, e1 + VECTOR * Float.BYTES));
                a2 = a2.add(load(tables, e2));
                b2 = b2.add(load(tables, e2 + VECTOR * Float.BYTES));
                a3 = a3.add(load(tables, e3));
                b3 = b3.add(load(tables, e3 + VECTOR * Float.BYTES));
            }
        }
        a0.intoArray(sums, s);
        b0.intoArray(sums, s + VECTOR);
        a1.intoArray(sums, s + TOKENS);
        b1.intoArray(sums, s + TOKENS + VECTOR);
        a2.intoArray(sums, s + 2 * TOKENS);
        b2.intoArray(sums, s + 2 * TOKENS + VECTOR);
        a3.intoArray(sums, s + 3 * TOKENS);
        b3.intoArray(sums, s + 3 * TOKENS + VECTOR);
    }

    /** Two rows, four 256-bit vectors each. */
    private static void lookup2(MemorySegment tables, MemorySegment layout, long bits, int n, float[] sums, int s, boolean first) {
        FloatVector a0 = sum(sums, s, first);
        FloatVector a1 = sum(sums, s + VECTOR, first);
        FloatVector a2 = sum(sums, s + 2 * VECTOR, first);
        FloatVector a3 = sum(sums, s + 3 * VECTOR, first);
        FloatVector b0 = sum(sums, s + TOKENS, first);
        FloatVector b1 = sum(sums, s + TOKENS + VECTOR, first);
        FloatVector b2 = sum(sums, s + TOKENS + 2 * VECTOR, first);
        FloatVector b3 = sum(sums, s + TOKENS + 3 * VECTOR, first);
        long table = 0;
        for (int i = 0; i < n; i++, bits += LutKernel.LANES * Integer.BYTES) {
            int w0 = layout.get(ValueLayout.JAVA_INT, bits);
            int w1 = layout.get(ValueLayout.JAVA_INT, bits + 4);
            for (int k = 0; k < 32; k += 8, table += TABLE_BYTES) {
                long e0 = entry(table, w0 >>> k);
                long e1 = entry(table, w1 >>> k);
                a0 = a0.add(load(tables, e0));
                a1 = a1.add(load(tables, e0 + VECTOR * Float.BYTES));
                a2 = a2.add(load(tables, e0 + 2 * VECTOR * Float.BYTES));
                a3 = a3.add(load(tables, e0 + 3 * VECTOR * Float.BYTES));
                b0 = b0.add(load(tables, e1));
                b1 = b1.add(load(tables, e1 + VECTOR * Float.BYTES));
                b2 = b2.add(load(tables, e1 + 2 * VECTOR * Float.BYTES));
                b3 = b3.add(load(tables, e1 + 3 * VECTOR * Float.BYTES));
            }
        }
        a0.intoArray(sums, s);
        a1.intoArray(sums, s + VECTOR);
        a2.intoArray(sums, s + 2 * VECTOR);
        a3.intoArray(sums, s + 3 * VECTOR);
        b0.intoArray(sums, s + TOKENS);
        b1.intoArray(sums, s + TOKENS + VECTOR);
        b2.intoArray(sums, s + TOKENS + 2 * VECTOR);
        b3.intoArray(sums, s + TOKENS + 3 * VECTOR);
    }

    /** One row (the rows past the last whole lookup), a vector of tokens at a time. */
    private static void lookup1(MemorySegment tables, MemorySegment layout, long bits, int n, float[] sums, int s, boolean first) {
        for (int v = 0; v < TOKENS; v += VECTOR) {
            FloatVector a = sum(sums, s + v, first);
            long table = 0;
            long at = bits;
            for (int i = 0; i < n; i++, at += LutKernel.LANES * Integer.BYTES) {
                int w = layout.get(ValueLayout.JAVA_INT, at);
                for (int k = 0; k < 32; k += 8, table += TABLE_BYTES) {
                    a = a.add(load(tables, entry(table, w >>> k) + v * Float.BYTES));
                }
            }
            a.intoArray(sums, s + v);
        }
    }

    /** A row's partial sums so far: zero before the first panel (so the first add is exact, as in decode). */
    private static FloatVector sum(float[] sums, int s, boolean first) {
        return first ? FloatVector.zero(F) : FloatVector.fromArray(F, sums, s);
    }

    /** Byte offset of the entry for the low byte of bits in the table at byte offset table. */
    private static long entry(long table, int bits) {
        return table + (long) (bits & 255) * ENTRY_BYTES;
    }

    private static FloatVector load(MemorySegment tables, long offset) {
        return FloatVector.fromMemorySegment(F, tables, offset, ORDER);
    }
}
