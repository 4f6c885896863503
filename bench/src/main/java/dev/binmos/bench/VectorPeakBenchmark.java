package dev.binmos.bench;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The machine's peak rate of the vector instructions the LUT kernel is made of (512-bit permute, shift,
 * float add), each as 8 independent chains so that latency does not count: ops/s = instructions/s per
 * thread. Run with {@code -t 1} and {@code -t 2}: if two threads do not double the total, the two vCPUs
 * share one core's vector units. Used to tell whether a kernel is compute-bound (docs/BENCHMARKS.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class VectorPeakBenchmark {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int ROUNDS = 1024;
    /** Instructions per invocation: 8 chains × ROUNDS. */
    private static final int OPS = 8 * ROUNDS;

    private IntVector table;
    private IntVector i0;
    private FloatVector f0;

    @Setup
    public void setUp() {
        int[] t = new int[I.length()];
        for (int k = 0; k < t.length; k++) {
            t[k] = (k * 7 + 3) % I.length();
        }
        table = IntVector.fromArray(I, t, 0);
        i0 = IntVector.broadcast(I, 1);
        f0 = FloatVector.broadcast(F, 1e-3f);
    }

    /** selectFrom = vpermd on AVX-512: the LUT kernel's table lookup. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public IntVector permute() {
        IntVector t = table;
        IntVector a = i0, b = i0.add(1), c = i0.add(2), d = i0.add(3), e = i0.add(4), f = i0.add(5), g = i0.add(6), h = i0.add(7);
        for (int r = 0; r < ROUNDS; r++) {
            a = a.selectFrom(t);
            b = b.selectFrom(t);
            c = c.selectFrom(t);
            d = d.selectFrom(t);
            e = e.selectFrom(t);
            f = f.selectFrom(t);
            g = g.selectFrom(t);
            h = h.selectFrom(t);
        }
        return a.add(b).add(c).add(d).add(e).add(f).add(g).add(h);
    }

    /** Lanewise shift right: the LUT kernel's nibble select. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public IntVector shift() {
        IntVector a = i0, b = i0.add(1), c = i0.add(2), d = i0.add(3), e = i0.add(4), f = i0.add(5), g = i0.add(6), h = i0.add(7);
        for (int r = 0; r < ROUNDS; r++) {
            a = a.lanewise(VectorOperators.LSHR, 1);
            b = b.lanewise(VectorOperators.LSHR, 1);
            c = c.lanewise(VectorOperators.LSHR, 1);
            d = d.lanewise(VectorOperators.LSHR, 1);
            e = e.lanewise(VectorOperators.LSHR, 1);
            f = f.lanewise(VectorOperators.LSHR, 1);
            g = g.lanewise(VectorOperators.LSHR, 1);
            h = h.lanewise(VectorOperators.LSHR, 1);
        }
        return a.add(b).add(c).add(d).add(e).add(f).add(g).add(h);
    }

    /** Float add: the LUT kernel's accumulation. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public FloatVector add() {
        FloatVector x = f0;
        FloatVector a = x, b = x.add(1), c = x.add(2), d = x.add(3), e = x.add(4), f = x.add(5), g = x.add(6), h = x.add(7);
        for (int r = 0; r < ROUNDS; r++) {
            a = a.add(x);
            b = b.add(x);
            c = c.add(x);
            d = d.add(x);
            e = e.add(x);
            f = f.add(x);
            g = g.add(x);
            h = h.add(x);
        }
        return a.add(b).add(c).add(d).add(e).add(f).add(g).add(h);
    }
}
