package dev.binmos.bench;

import java.io.File;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Two or more builds of the engine, one BinaryMoS linear each, timed in turns in one JVM: A, B, A, B, …
 * On a shared VM whose speed drifts by tens of percent from minute to minute, separate runs cannot
 * compare two kernels, while turns of a few milliseconds see the same machine. Each build is loaded in
 * its own class loader from its engine jar; every output is checked against the first build's, float
 * for float.
 * <p>
 * Usage: {@code bench/ab OUT IN TOKENS THREADS ENGINE.jar[:KERNEL] ENGINE.jar[:KERNEL]...}, a kernel being a
 * {@code BinaryMosLinear.Kernel} name (LUT unless given), e.g. {@code a.jar:MASKED b.jar} to time one
 * build's masked kernel against another's LUT (their outputs then differ by rounding).
 */
public final class KernelAB {
    private static final int EXPERTS = 4;
    private static final int CALLS_PER_TURN = 3;

    private KernelAB() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 6) {
            System.err.println("usage: bench/ab OUT IN TOKENS THREADS ENGINE.jar[:KERNEL] ENGINE.jar[:KERNEL]...");
            System.exit(2);
        }
        int out = Integer.parseInt(args[0]);
        int in = Integer.parseInt(args[1]);
        int tokens = Integer.parseInt(args[2]);
        int threads = Integer.parseInt(args[3]);
        int turns = Integer.getInteger("turns", 60);
        String[] jars = Arrays.copyOfRange(args, 4, args.length);
        SplittableRandom random = new SplittableRandom(1);
        float[] w = gaussian(random, out * in, 0.02);
        float[] router = gaussian(random, EXPERTS * in, 0.05);
        float[] sIn = gaussian(random, EXPERTS * in, 1);
        float[] sOut = gaussian(random, EXPERTS * out, 0.01);
        float[] x = gaussian(random, in * tokens, 1);
        Build[] builds = new Build[jars.length];
        for (int i = 0; i < jars.length; i++) {
            builds[i] = new Build(jars[i], w, router, sIn, sOut, out, in, threads, new float[out * tokens]);
        }
        for (int warm = 0; warm < 30; warm++) {
            for (Build b : builds) {
                b.apply(x, tokens);
            }
        }
        long[][] nanos = new long[builds.length][turns];
        for (int turn = 0; turn < turns; turn++) {
            for (int i = 0; i < builds.length; i++) {
                long start = System.nanoTime();
                for (int c = 0; c < CALLS_PER_TURN; c++) {
                    builds[i].apply(x, tokens);
                }
                nanos[i][turn] = System.nanoTime() - start;
            }
        }
        System.out.printf("%d x %d, %d tokens, %d threads, %d turns of %d calls%n", out, in, tokens, threads, turns, CALLS_PER_TURN);
        double first = 0;
        for (int i = 0; i < builds.length; i++) {
            long[] sorted = nanos[i].clone();
            Arrays.sort(sorted);
            double median = sorted[turns / 2] / (double) CALLS_PER_TURN;
            if (i == 0) {
                first = median;
            }
            System.out.printf("%-48s median %8.3f ms (%8.0f tokens/s)  min %8.3f ms  %.2fx the first  output %s%n", jars[i], median / 1e6,
                    tokens * 1e9 / median, sorted[0] / (double) CALLS_PER_TURN / 1e6, first / median,
                    Arrays.equals(builds[i].y, builds[0].y) ? "identical" : "DIFFERS");
        }
    }

    private static float[] gaussian(SplittableRandom random, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (scale * random.nextGaussian());
        }
        return v;
    }

    /** One engine build's linear, made and called through its own class loader. */
    private static final class Build {
        final Object linear;
        final Object parallel;
        final Method apply;
        final float[] y;

        Build(String build, float[] w, float[] router, float[] sIn, float[] sOut, int out, int in, int threads, float[] y) throws Exception {
            int colon = build.lastIndexOf(':');
            String jar = colon < 0 ? build : build.substring(0, colon);
            String kernel = colon < 0 ? "LUT" : build.substring(colon + 1);
            ClassLoader loader = new URLClassLoader(new URL[] {new File(jar).toURI().toURL()}, ClassLoader.getPlatformClassLoader());
            Class<?> signsClass = loader.loadClass("dev.binmos.engine.binarymos.PackedSigns");
            Class<?> linearClass = loader.loadClass("dev.binmos.engine.binarymos.BinaryMosLinear");
            Class<?> kernelClass = loader.loadClass("dev.binmos.engine.binarymos.BinaryMosLinear$Kernel");
            Class<?> parallelClass = loader.loadClass("dev.binmos.engine.util.Parallel");
            Object signs = signsClass.getMethod("pack", float[].class, int.class, int.class).invoke(null, w, out, in);
            Object kind = Arrays.stream(kernelClass.getEnumConstants()).filter(k -> k.toString().equals(kernel)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown kernel '" + kernel + "' in " + build + "; "
                            + jar + " has " + Arrays.toString(kernelClass.getEnumConstants())));
            Constructor<?> constructor = linearClass.getConstructor(signsClass, float[].class, float[].class, float[].class, int.class, kernelClass);
            this.linear = constructor.newInstance(signs, router, sIn, sOut, EXPERTS, kind);
            this.parallel = parallelClass.getConstructor(int.class).newInstance(threads);
            this.apply = linearClass.getMethod("apply", float[].class, float[].class, int.class, parallelClass);
            this.y = y;
        }

        void apply(float[] x, int tokens) throws Exception {
            apply.invoke(linear, x, y, tokens, parallel);
        }
    }
}
