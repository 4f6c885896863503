package dev.binmos.engine.binarymos;

import dev.binmos.engine.util.NativeMemory;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Times {@link LutTokenLanes#lookup}, the prefill kernel's inner loop, alone: 16 byte tables (512 KB, the
 * shape bench/native/lookup.c has fixed) and one span of the bits of {@code rows} rows, swept as
 * {@link LutTokenLanes#multiply} sweeps them, on one thread. Next to bench/native/lookup.c (the same
 * loop in C) it shows how far the JIT's loop is from what the machine allows. In the engine's package, from
 * the bench module, to reach the package-private loop.
 * <p>
 * Usage: {@code bench/lookup [rows] [reps]} (the script checks them: rows ≥ 4, reps ≥ 5).
 */
public final class LookupCeiling {
    private static final int TABLES = 16;
    private static final int HALVES = TABLES / 4;

    private LookupCeiling() {
    }

    public static void main(String[] args) {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 3000;
        SplittableRandom random = new SplittableRandom(1);
        MemorySegment tables = NativeMemory.allocate(TABLES * LutTokenLanes.TABLE_BYTES);
        for (long i = 0; i < tables.byteSize() / Float.BYTES; i++) {
            tables.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
        }
        int blocks = (rows + LutKernel.BLOCK - 1) / LutKernel.BLOCK;
        MemorySegment bits = NativeMemory.allocate(blocks * LutKernel.BLOCK_SPAN_BYTES);
        for (long i = 0; i < bits.byteSize() / Integer.BYTES; i++) {
            bits.setAtIndex(ValueLayout.JAVA_INT, i, random.nextInt());
        }
        int swept = rows / LutTokenLanes.LOOKUP_ROWS * LutTokenLanes.LOOKUP_ROWS;
        float[] sums = new float[swept * LutTokenLanes.TOKENS];
        double best = Double.MAX_VALUE;
        for (int rep = 0; rep < reps; rep++) {
            long start = System.nanoTime();
            for (int r = 0; r < swept; r += LutTokenLanes.LOOKUP_ROWS) {
                LutTokenLanes.lookup(tables, bits, LutTokenLanes.bitsOffset(r), HALVES, sums, r * LutTokenLanes.TOKENS,
                        false);
            }
            double seconds = (System.nanoTime() - start) * 1e-9;
            // the first fifth warms the JIT up
            if (rep > reps / 5) {
                best = Math.min(best, seconds);
            }
        }
        double entries = (double) swept * TABLES;
        float check = 0;
        for (float s : sums) {
            check += s;
        }
        System.out.printf("Java lookup, %d rows x %d tables of 256 entries: best %.2f ns per entry, %.1f G multiply-adds/s (check %g)%n",
                swept, TABLES, best * 1e9 / entries, entries * 256 / best / 1e9, check);
    }
}
