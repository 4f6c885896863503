package dev.binmos.bench;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.kv.KvPrecision;
import dev.binmos.engine.kv.KvStats;
import dev.binmos.engine.kv.PodGroups;
import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.kv.PodMode;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Parallel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Dense against PoD decode on a shared, noisy machine: the two sessions (F16 caches filled as in
 * {@link KvDecodeBenchmark}) decode in alternation, one token each per round, so both see the same
 * background load and the ratio of their median token times is stable where separate JMH trials drift.
 * KV bytes are those of the filled context, before decoding.
 *
 * <p>Usage: {@code java … -cp bench/target/benchmarks.jar dev.binmos.bench.KvDecodeAlternating MODEL
 * CONTEXTS ROUNDS GROUP_SIZE SINKS WINDOW MODE}, e.g. {@code model.gguf 2048,4096 60 4 16 1024 shared-keys}.
 */
public final class KvDecodeAlternating {
    private KvDecodeAlternating() {
    }

    public static void main(String[] args) {
        Llama model = ModelLoader.load(Path.of(args[0]), null);
        int rounds = Integer.parseInt(args[2]);
        int groupSize = Integer.parseInt(args[3]);
        Configuration c = model.config();
        StringBuilder groups = new StringBuilder();
        for (int first = 0; first < c.layers(); first += groupSize) {
            groups.append(groups.isEmpty() ? "" : ",").append(first).append('-').append(Math.min(c.layers(), first + groupSize) - 1);
        }
        KvPolicy pod = new KvPolicy.Pod(new PodLayout(Integer.parseInt(args[4]), Integer.parseInt(args[5]), PodMode.parse(args[6]),
                PodGroups.parse(groups.toString(), c.layers(), c.kvHeads())), KvPrecision.F16);
        KvPolicy dense = new KvPolicy.Dense(KvPrecision.F16);
        System.out.println("| T | dense KV bytes | PoD KV bytes | saving | dense tokens/s | PoD tokens/s | PoD / dense |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (String t : args[1].split(",")) {
            int context = Integer.parseInt(t);
            try (CpuBackend a = new CpuBackend(model, new Parallel(2), dense); CpuBackend b = new CpuBackend(model, new Parallel(2), pod)) {
                Session[] sessions = {open(a, c, context, rounds), open(b, c, context, rounds)};
                KvStats filled = sessions[1].cache().stats();
                CpuBackend[] backends = {a, b};
                long[][] nanos = new long[2][rounds];
                for (int r = -3; r < rounds; r++) {
                    for (int k = 0; k < 2; k++) {
                        int which = (r & 1) == 0 ? k : 1 - k; // alternate who goes first
                        long start = System.nanoTime();
                        backends[which].forward(sessions[which], new int[] {1 + (r + 3) % 1000}, context + r + 3);
                        if (r >= 0) {
                            nanos[which][r] = System.nanoTime() - start;
                        }
                    }
                }
                double denseRate = 1e9 / median(nanos[0]);
                double podRate = 1e9 / median(nanos[1]);
                System.out.printf(Locale.ROOT, "| %d | %,d | %,d | %.1f%% | %.3f | %.3f | %.3f |%n", context, filled.denseBytes(),
                        filled.bytes(), 100 * filled.saving(), denseRate, podRate, podRate / denseRate);
            }
        }
    }

    private static Session open(CpuBackend backend, Configuration c, int context, int rounds) {
        Session session = backend.openSession("bench", context + rounds + 3);
        KvDecodeBenchmark.fill(session.cache(), c, context);
        session.restored(context);
        return session;
    }

    private static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0;
    }
}
