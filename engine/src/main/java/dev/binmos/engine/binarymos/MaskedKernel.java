package dev.binmos.engine.binarymos;

import dev.binmos.engine.tensor.Lanes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Sign bits used directly as vector masks, for any vector width: Σ_c sign(o, c)·xs[c] = Σ xs − 2 · Σ_{bit c
 * set} xs[c], and the second sum is one masked add per vector of inputs. Half the speed of {@link LutKernel}
 * on AVX-512, but it needs neither tables nor 256-bit registers, so it serves machines with 128-bit vectors.
 * Four rows share each input load; a token's pass over a block re-reads its bits from L1, not memory.
 */
final class MaskedKernel implements SignKernel {
    static final MaskedKernel INSTANCE = new MaskedKernel();

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int BLOCK = 4;

    private MaskedKernel() {
    }

    @Override
    public int rowBlock() {
        return BLOCK;
    }

    @Override
    public float[] prepare(float[] xs, int tokens, int paddedIn, float[] reuse) {
        return xs;
    }

    /** The file's row-major words. */
    @Override
    public MemorySegment layout(PackedSigns signs) {
        return signs.segment();
    }

    @Override
    public void multiply(PackedSigns signs, MemorySegment layout, float[] xs, int tokens, OutScales outScales,
                         float[] y, int yOff, int rowFrom, int rowTo) {
        int paddedIn = signs.wordsPerRow() * Long.SIZE;
        int out = signs.rows();
        float[] sHatOut = outScales.forRows(tokens, out, rowFrom, rowTo);
        float[] totals = new float[tokens];
        for (int t = 0; t < tokens; t++) {
            totals[t] = sum(xs, t * paddedIn, paddedIn);
        }
        for (int o = rowFrom; o < rowTo; o += BLOCK) {
            for (int t = 0; t < tokens; t++) {
                block(layout, signs.wordsPerRow(), out, xs, t * paddedIn, totals[t], y, yOff + t * out, o, Math.min(BLOCK, rowTo - o),
                        sHatOut, t * out);
            }
        }
    }

    /**
     * Rows o .. o + rows - 1 (rows ≤ 4) of one token. A method of its own, called thousands of times per
     * product, so that it is compiled early: the Vector API is very slow until it is.
     */
    private static void block(MemorySegment segment, int wpr, int out, float[] xs, int xOff, float total, float[] y, int yOff, int o,
                              int rows, float[] sHatOut, int sOff) {
        int last = out - 1;
        // rows past the matrix repeat its last row; their results are not stored
        long row0 = (long) Math.min(o, last) * wpr * Long.BYTES;
        long row1 = (long) Math.min(o + 1, last) * wpr * Long.BYTES;
        long row2 = (long) Math.min(o + 2, last) * wpr * Long.BYTES;
        long row3 = (long) Math.min(o + 3, last) * wpr * Long.BYTES;
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int j = 0; j < wpr; j++) {
            long offset = (long) j * Long.BYTES;
            long b0 = segment.get(LE_LONG, row0 + offset);
            long b1 = segment.get(LE_LONG, row1 + offset);
            long b2 = segment.get(LE_LONG, row2 + offset);
            long b3 = segment.get(LE_LONG, row3 + offset);
            int c = xOff + j * Long.SIZE;
            for (int k = 0; k < Long.SIZE; k += S.length()) {
                FloatVector x = FloatVector.fromArray(S, xs, c + k);
                a0 = a0.add(x, VectorMask.fromLong(S, b0 >>> k));
                a1 = a1.add(x, VectorMask.fromLong(S, b1 >>> k));
                a2 = a2.add(x, VectorMask.fromLong(S, b2 >>> k));
                a3 = a3.add(x, VectorMask.fromLong(S, b3 >>> k));
            }
        }
        store(y, yOff, o, 0, rows, total - 2f * Lanes.sum(a0), sHatOut, sOff);
        store(y, yOff, o, 1, rows, total - 2f * Lanes.sum(a1), sHatOut, sOff);
        store(y, yOff, o, 2, rows, total - 2f * Lanes.sum(a2), sHatOut, sOff);
        store(y, yOff, o, 3, rows, total - 2f * Lanes.sum(a3), sHatOut, sOff);
    }

    private static void store(float[] y, int yOff, int o, int r, int rows, float sum, float[] sHatOut, int sOff) {
        if (r < rows) {
            y[yOff + o + r] = sum * sHatOut[sOff + o + r];
        }
    }

    private static float sum(float[] values, int offset, int n) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < n; i += S.length()) {
            acc = acc.add(FloatVector.fromArray(S, values, offset + i));
        }
        return Lanes.sum(acc);
    }
}
