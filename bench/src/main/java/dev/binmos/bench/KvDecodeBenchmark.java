package dev.binmos.bench;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.kv.KvCache;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.kv.KvPrecision;
import dev.binmos.engine.kv.PodGroups;
import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.kv.PodMode;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Parallel;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.StringJoiner;
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
 * Decode with a long context, dense against PoD: the session's F16 cache is filled directly with
 * synthetic keys and values for {@code context} positions (no prefill), then each op decodes one token
 * (positions context, context + 1, …), so ops/s = tokens/s. The model comes from -Dbinmos.model and
 * needs a context length above {@code context} + {@link #ROOM} (e.g. {@code binmos synth --context 16640}).
 * PoD groups are runs of {@code groupSize} layers (per layer); the setup prints the cache's bytes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class KvDecodeBenchmark {
    /** Positions a trial may decode past the filled context. */
    static final int ROOM = 256;

    @Param({"2048", "4096", "8192", "16384"})
    int context;

    @Param({"dense", "pod"})
    String policy;

    @Param({"shared-keys"})
    String mode;

    @Param({"4"})
    int groupSize;

    @Param({"16"})
    int sinks;

    @Param({"1024"})
    int window;

    @Param({"2"})
    int threads;

    private CpuBackend backend;
    private Session session;
    private int pos;
    private int token;

    @Setup(Level.Trial)
    public void setUp() {
        Llama llama = ModelLoader.load(Path.of(System.getProperty("binmos.model", "../shared/models/stories260K.bin")), null);
        Configuration c = llama.config();
        KvPolicy kv = switch (policy) {
            case "dense" -> new KvPolicy.Dense(KvPrecision.F16);
            case "pod" -> new KvPolicy.Pod(new PodLayout(sinks, window, PodMode.parse(mode), groups(c.layers(), c.kvHeads())), KvPrecision.F16);
            default -> throw new IllegalArgumentException("policy is dense or pod, got " + policy);
        };
        backend = new CpuBackend(llama, new Parallel(threads), kv);
        session = backend.openSession("bench", context + ROOM);
        fill(session.cache(), c, context);
        session.restored(context);
        pos = context;
        token = llama.tokenizer().bos();
        System.out.printf("%n%s at %d positions: %d KV bytes, dense %d, saving %.1f%%%n", kv.describe(), context,
                session.cache().bytes(), session.cache().denseBytes(), 100 * session.cache().stats().saving());
    }

    private PodGroups groups(int layers, int kvHeads) {
        StringJoiner ranges = new StringJoiner(",");
        for (int first = 0; first < layers; first += groupSize) {
            ranges.add(first + "-" + (Math.min(layers, first + groupSize) - 1));
        }
        return PodGroups.parse(ranges.toString(), layers, kvHeads);
    }

    /** Stores synthetic keys and values for positions [0, length) through the cache's own interface, in steps of 1024. */
    static void fill(KvCache cache, Configuration c, int length) {
        SplittableRandom random = new SplittableRandom(1);
        float[][] pool = new float[97][c.kvDim()];
        for (float[] vector : pool) {
            for (int i = 0; i < vector.length; i++) {
                vector[i] = (float) random.nextGaussian();
            }
        }
        for (int start = 0; start < length; start += 1024) {
            int count = Math.min(1024, length - start);
            cache.begin(start, count);
            for (int l = 0; l < c.layers(); l++) {
                for (int p = start; p < start + count; p++) {
                    cache.store(l, p, pool[(p * 7 + l) % pool.length], 0, pool[(p * 13 + l + 1) % pool.length], 0);
                }
            }
            cache.end();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    public float[] decodeToken() {
        if (pos == context + ROOM) {
            throw new IllegalStateException("decoded " + ROOM + " tokens past the filled context; raise ROOM");
        }
        float[] logits = backend.forward(session, new int[] {token}, pos++);
        token = (token * 31 + 7) % logits.length;
        return logits;
    }
}
