package dev.binmos.bench;

import dev.binmos.engine.binarymos.BinaryMosLinear;
import dev.binmos.engine.binarymos.PackedSigns;
import dev.binmos.engine.linear.DenseLinear;
import dev.binmos.engine.linear.Linear;
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
 * One step of {@code tokens} tokens (1: decode; 16: a batch of streams; 32: a prefill tile, which the LUT
 * kernel runs with tokens in the vector lanes) through a BinaryMoS linear (E = 4) with each inner loop, against the FP32 dense linear of the same shape [out, in]. ops/s · tokens = tokens/s of
 * this layer; weight traffic in GB/s = weightBytes · ops/s / 1e9 (BinaryMoS 4096x4096: 2,293,760 B;
 * 11008x4096: 5,943,296 B; FP32: 4 B per weight).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class BinaryMosLinearBenchmark {
    private static final int EXPERTS = 4;

    /** out x in. */
    @Param({"4096x4096", "11008x4096"})
    String shape;

    @Param({"1", "2"})
    int threads;

    @Param({"1", "16", "32"})
    int tokens;

    private Linear lut;
    private Linear masked;

    private Linear dense;
    private Parallel parallel;
    private float[] x;
    private float[] y;

    @Setup(Level.Trial)
    public void setUp() {
        int out = Integer.parseInt(shape.substring(0, shape.indexOf('x')));
        int in = Integer.parseInt(shape.substring(shape.indexOf('x') + 1));
        SplittableRandom random = new SplittableRandom(1);
        float[] w = gaussian(random, out * in, 0.02);
        PackedSigns signs = PackedSigns.pack(w, out, in);
        float[] router = gaussian(random, EXPERTS * in, 0.05);
        float[] sIn = gaussian(random, EXPERTS * in, 1);
        float[] sOut = gaussian(random, EXPERTS * out, 0.01);
        lut = new BinaryMosLinear(signs, router, sIn, sOut, EXPERTS, BinaryMosLinear.Kernel.LUT);
        masked = new BinaryMosLinear(signs, router, sIn, sOut, EXPERTS, BinaryMosLinear.Kernel.MASKED);

        dense = new DenseLinear(new ArrayTensor(w), out, in);
        x = gaussian(random, in * tokens, 1);
        y = new float[out * tokens];
        parallel = new Parallel(threads);
    }

    private static float[] gaussian(SplittableRandom random, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (scale * random.nextGaussian());
        }
        return v;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        parallel.close();
    }

    @Benchmark
    public float[] binaryMosLut() {
        lut.apply(x, y, tokens, parallel);
        return y;
    }

    @Benchmark
    public float[] binaryMosMasked() {
        masked.apply(x, y, tokens, parallel);
        return y;
    }

    @Benchmark
    public float[] fp32Dense() {
        dense.apply(x, y, tokens, parallel);
        return y;
    }
}
