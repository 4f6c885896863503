package dev.binmos.bench;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Parallel;
import java.nio.file.Path;
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
 * End-to-end decode: one token through every layer and the classifier, with a KV cache that grows from
 * position 1 to {@code positions} and then starts again (so ops/s = tokens/s averaged over that range).
 * The model comes from -Dbinmos.model (default ../shared/models/stories260K.bin).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DecodeBenchmark {
    @Param({"1", "2"})
    int threads;

    @Param({"256"})
    int positions;

    private CpuBackend backend;
    private Session session;
    private int pos;
    private int token;

    @Setup(Level.Trial)
    public void setUp() {
        Path model = Path.of(System.getProperty("binmos.model", "../shared/models/stories260K.bin"));
        Llama llama = ModelLoader.load(model, null);
        backend = new CpuBackend(llama, new Parallel(threads));
        session = backend.openSession("bench", positions);
        token = llama.tokenizer().bos();
        backend.forward(session, new int[] {token}, 0);
        pos = 1;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    public float[] decodeToken() {
        if (pos == positions) {
            pos = 1;
        }
        float[] logits = backend.forward(session, new int[] {token}, pos++);
        token = (token * 31 + 7) % logits.length;
        return logits;
    }
}
