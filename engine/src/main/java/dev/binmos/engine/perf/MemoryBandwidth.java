package dev.binmos.engine.perf;

import dev.binmos.engine.tensor.Lanes;
import dev.binmos.engine.util.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Memory read bandwidth as a decode step sees it, in the spirit of STREAM: every thread sums its own
 * contiguous slice of a buffer far larger than any cache, with the same vector loads the kernels use. The
 * buffer is off-heap and freed at once, so it does not stay in the process's resident set.
 */
public final class MemoryBandwidth {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final long WARM_UP_NANOS = 300_000_000L;

    private MemoryBandwidth() {
    }

    /** Best of {@code repeats} full reads of a {@code bytes}-byte buffer split over {@code parallel}'s threads, in bytes per second. */
    public static double measure(long bytes, int repeats, Parallel parallel) {
        long floats = bytes / Float.BYTES / S.length() * S.length();
        // slices as whole vectors, so every thread reads only full vectors
        int slices = (int) Math.min(Integer.MAX_VALUE, floats / S.length());
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(floats * Float.BYTES, 64);
            parallel.forRange(slices, 1, (from, to) -> {
                for (long i = (long) from * S.length(); i < (long) to * S.length(); i++) {
                    buffer.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (i & 1023));
                }
            });
            float[] sink = {warmUp(buffer)};
            double best = 0;
            for (int r = 0; r < repeats; r++) {
                long start = System.nanoTime();
                parallel.forRange(slices, 1, (from, to) -> {
                    float s = sum(buffer, (long) from * S.length() * Float.BYTES, (long) to * S.length() * Float.BYTES);
                    synchronized (sink) {
                        sink[0] += s;
                    }
                });
                double seconds = (System.nanoTime() - start) / 1e9;
                best = Math.max(best, floats * Float.BYTES / seconds);
            }
            if (Float.isNaN(sink[0])) {
                throw new AssertionError("unreachable: the sums keep the loads alive");
            }
            return best;
        }
    }

    /**
     * Runs {@link #sum} until the JIT has compiled it whole. Timed cold, its loop ran first in C2's on-stack
     * compilation, which was thrown out at the loop's first exit (an uncommon trap), and the timed reads
     * then ran C1's profiling code: 12 to 16 GB/s where the compiled loop reads 42 to 47 (machine F). The
     * full reads may still recompile it once (their ranges differ from the warm-up's), which the best of
     * the repeats leaves out.
     */
    private static float warmUp(MemorySegment buffer) {
        // small enough to stay in cache; one vector past a multiple of four, so the tail loop runs too
        long span = Math.min(buffer.byteSize(), 1024 * S.vectorByteSize() + S.vectorByteSize());
        float s = 0;
        for (long until = System.nanoTime() + WARM_UP_NANOS; System.nanoTime() < until; ) {
            s += sum(buffer, 0, span);
        }
        return s;
    }

    /** Four independent accumulators, so the adds never wait on each other and loads set the pace. */
    private static float sum(MemorySegment buffer, long from, long to) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        long step = S.vectorByteSize();
        long at = from;
        for (; at + 4 * step <= to; at += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(S, buffer, at, ByteOrder.nativeOrder()));
            a1 = a1.add(FloatVector.fromMemorySegment(S, buffer, at + step, ByteOrder.nativeOrder()));
            a2 = a2.add(FloatVector.fromMemorySegment(S, buffer, at + 2 * step, ByteOrder.nativeOrder()));
            a3 = a3.add(FloatVector.fromMemorySegment(S, buffer, at + 3 * step, ByteOrder.nativeOrder()));
        }
        for (; at < to; at += step) {
            a0 = a0.add(FloatVector.fromMemorySegment(S, buffer, at, ByteOrder.nativeOrder()));
        }
        return Lanes.sum(a0.add(a1).add(a2.add(a3)));
    }
}
