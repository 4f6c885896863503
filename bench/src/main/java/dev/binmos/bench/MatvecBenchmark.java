package dev.binmos.bench;

import dev.binmos.engine.linear.DenseLinear;
import dev.binmos.engine.tensor.ArrayTensor;
import dev.binmos.engine.util.Parallel;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One FP32 matrix-vector product y = W·x, the decode-time kernel. GFLOP/s = 2 · rows · cols · ops/s / 1e9.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class MatvecBenchmark {
    @Param({"4096"})
    int rows;

    @Param({"4096"})
    int cols;

    @Param({"1", "2"})
    int threads;

    private DenseLinear linear;
    private Parallel parallel;
    private float[] x;
    private float[] y;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom random = new SplittableRandom(1);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian() * 0.02f;
        }
        x = new float[cols];
        for (int i = 0; i < cols; i++) {
            x[i] = (float) random.nextGaussian();
        }
        y = new float[rows];
        linear = new DenseLinear(new ArrayTensor(w), rows, cols);
        parallel = new Parallel(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        parallel.close();
    }

    @Benchmark
    public float[] matvec() {
        linear.apply(x, y, 1, parallel);
        return y;
    }
}
