package dev.binmos.tests;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.format.ModelHash;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Parallel;
import dev.binmos.proto.v1.GenerateRequest;
import dev.binmos.proto.v1.GenerateResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * End-to-end decode throughput of the suite on loopback, next to the single-process engine: one
 * stream through one stage and through two stages, and eight concurrent streams through one stage.
 * Runs only when given a model (skipped in the normal build):
 *
 * <pre>
 * ./binmos synth --shape llama2-7b --layers 4 --format f16 --tokenizer ../shared/models/tokenizer-llama2-32k.bin --out /tmp/b/7b-4l.gguf
 * ./mvn25 -o -pl tests verify -Dtest=SuiteBench -Dbinmos.bench.model=/tmp/b/7b-4l.gguf [-Dbinmos.bench.tokens=32] [-Dbinmos.bench.rounds=3]
 * </pre>
 *
 * Decode tokens/s = tokens after the first / time from the first token to the last (prefill excluded);
 * for concurrent streams, all their tokens after the first over the time from the earliest first token
 * to the latest last one. Every process stays up for the whole run; each measurement follows a short
 * warm-up generation, and each configuration is measured once per round, the figures being medians.
 */
@EnabledIfSystemProperty(named = "binmos.bench.model", matches = ".+")
class SuiteBench {
    private static final String PROMPT = "The history of the city";
    /** The engine's own collector (G1, the JVM's default here): the parallel one decodes this model about 5% slower. */
    private static final List<String> SERVICE_JVM = List.of("-Xmx3g", "-XX:+UseG1GC");

    private final Path model = Path.of(System.getProperty("binmos.bench.model")).toAbsolutePath();
    private final int tokens = Integer.getInteger("binmos.bench.tokens", 32);
    private final int rounds = Integer.getInteger("binmos.bench.rounds", 3);

    @Test
    void decodeThroughput() throws Exception {
        String sha256 = ModelHash.sha256(model);
        List<Double> engine = new ArrayList<>();
        List<Double> oneStage = new ArrayList<>();
        List<Double> twoStages = new ArrayList<>();
        List<Double> eight = new ArrayList<>();
        try (Engine single = new Engine(model);
             Cluster one = cluster("bench-1-stage", sha256).worker(0, single.layers()).start();
             Cluster two = cluster("bench-2-stages", sha256).worker(0, single.layers() / 2).worker(single.layers() / 2, single.layers())
                     .start()) {
            single.decode(4);
            // rounds of every configuration in turn: the machine's load drifts, medians compare like with like
            for (int round = 0; round < rounds; round++) {
                engine.add(single.decode(tokens));
                oneStage.add(streams(one, 1));
                twoStages.add(streams(two, 1));
                eight.add(streams(one, 8));
                System.out.printf("round %d: engine %.2f, 1 stage %.2f, 2 stages %.2f, 8 streams %.2f tokens/s%n", round + 1,
                        engine.getLast(), oneStage.getLast(), twoStages.getLast(), eight.getLast());
            }
        }
        double e = median(engine);
        double o = median(oneStage);
        double t = median(twoStages);
        double x = median(eight);
        System.out.printf("""

                | run (median of %d rounds, %d tokens) | decode tokens/s | ratio |
                |---|---|---|
                | single-process engine, 1 stream | %.2f | 1.00 |
                | suite, 1 stage, 1 stream | %.2f | %.2f of single-process |
                | suite, 2 stages, 1 stream | %.2f | **%.2f** of single-process (goal ≥ 0.90) |
                | suite, 1 stage, 8 streams (aggregate) | %.2f | **%.2f×** one stream on 1 stage (goal ≥ 3) |
                %n""", rounds, tokens, e, o, o / e, t, t / e, x, x / o);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private Cluster.Builder cluster(String name, String sha256) {
        return Cluster.builder(name).model(model, "bench")
                .router("binmos.router.models.bench.sha256", sha256)
                .workers("binmos.worker.model-sha256", sha256)
                .jvmOptions(SERVICE_JVM);
    }

    /** Aggregate decode tokens/s of {@code count} concurrent streams, after a warm-up. */
    private double streams(Cluster cluster, int count) throws Exception {
        timed(cluster, 4);
        double[] before = stepTimes(cluster);
        List<CompletableFuture<long[]>> calls = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> timed(cluster, tokens + 1), Grpcs.CLIENT_THREADS));
        }
        long firstToken = Long.MAX_VALUE;
        long lastToken = 0;
        int decoded = 0;
        for (CompletableFuture<long[]> call : calls) {
            long[] times = call.get(30, TimeUnit.MINUTES);
            firstToken = Math.min(firstToken, times[0]);
            lastToken = Math.max(lastToken, times[1]);
            decoded += (int) times[2] - 1;
        }
        double[] after = stepTimes(cluster);
        double steps = after[4] - before[4];
        System.out.printf("  %s, %d stream(s): %.1f ms between tokens at the router; per step %.1f ms at the router, %.1f ms in"
                        + " Forward calls, of which %.1f ms in the stages' forward%n",
                cluster.name(), count, 1e3 * (after[0] - before[0]) / (after[1] - before[1]), 1e3 * (after[5] - before[5]) / steps,
                1e3 * (after[3] - before[3]) / steps, 1e3 * (after[2] - before[2]) / steps);
        return decoded / ((lastToken - firstToken) / 1e9);
    }

    /**
     * {router inter-token seconds, router inter-token count, seconds in every stage's forward, seconds in the
     * router's Forward calls, router steps, router step seconds}.
     */
    private static double[] stepTimes(Cluster cluster) {
        Metrics router = Metrics.scrape(cluster.router());
        double stages = 0;
        double calls = 0;
        for (int i = 0; i < cluster.workers().size(); i++) {
            stages += Metrics.scrape(cluster.worker(i)).value("binmos_stage_forward_seconds_sum");
            calls += router.value("binmos_stage_call_seconds_sum", "stage", String.valueOf(i));
        }
        return new double[] {router.value("binmos_inter_token_latency_seconds_sum"), router.value("binmos_inter_token_latency_seconds_count"),
                stages, calls, router.value("binmos_step_duration_seconds_count"), router.value("binmos_step_duration_seconds_sum")};
    }

    /** One greedy generation: {first token nanos, last token nanos, tokens}. */
    private static long[] timed(Cluster cluster, int maxTokens) {
        Iterator<GenerateResponse> responses = cluster.generation().withDeadlineAfter(30, TimeUnit.MINUTES)
                .generate(GenerateRequest.newBuilder().setPrompt(PROMPT).setMaxTokens(maxTokens).build());
        long first = 0;
        long last = 0;
        int count = 0;
        while (responses.hasNext()) {
            if (responses.next().hasToken()) {
                last = System.nanoTime();
                first = count++ == 0 ? last : first;
            }
        }
        return new long[] {first, last, count};
    }

    /** The single-process engine: greedy decode in this JVM, as many threads as a worker uses. */
    private static final class Engine implements AutoCloseable {
        private final Llama llama;
        private final CpuBackend backend;

        Engine(Path file) {
            this.llama = ModelLoader.load(file, null);
            this.backend = new CpuBackend(llama, Parallel.ofAvailableProcessors());
        }

        int layers() {
            return llama.config().layers();
        }

        /** Decode tokens/s over {@code count} tokens after the prompt (its prefill not timed). */
        double decode(int count) {
            int[] prompt = llama.tokenizer().encode(PROMPT, true, false);
            Session session = backend.openSession("bench", prompt.length + count + 1);
            int next = argmax(backend.forward(session, prompt, 0));
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                next = argmax(backend.forward(session, new int[] {next}, prompt.length + i));
            }
            return count / ((System.nanoTime() - start) / 1e9);
        }

        private static int argmax(float[] logits) {
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                best = logits[i] > logits[best] ? i : best;
            }
            return best;
        }

        @Override
        public void close() {
            backend.close();
        }
    }
}
