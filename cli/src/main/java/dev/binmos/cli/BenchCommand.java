package dev.binmos.cli;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.perf.MemoryBandwidth;
import dev.binmos.engine.perf.ModelBench;
import dev.binmos.engine.perf.ResidentMemory;
import dev.binmos.engine.util.Json;
import dev.binmos.engine.util.Parallel;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measures a model's prefill and decode speed, time to first token and peak resident memory, and this "
                + "machine's memory read bandwidth in the same run: decode tokens/s is also given as a fraction of the "
                + "bandwidth limit (bandwidth / bytes read per token).")
final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    KvOptions kvOptions;

    @Option(names = "--prompt-tokens", defaultValue = "512", description = "Prompt length in tokens, BOS included (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--gen-tokens", defaultValue = "128", description = "Tokens to generate, greedily (default: ${DEFAULT-VALUE}).")
    int genTokens;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random prompt (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--bandwidth-mib", defaultValue = "1024", description = "Buffer of the bandwidth probe in MiB; 0 skips it (default: ${DEFAULT-VALUE}).")
    int bandwidthMib;

    @Option(names = "--interleave", description = "Time prefill and decode in turns: each 64-token chunk of the prompt, then its "
            + "share of the decode steps on a second session holding the same prompt, so both see the same machine (for the "
            + "prefill / decode ratio on a VM whose speed drifts). Holds two sessions' caches.")
    boolean interleave;

    @Option(names = "--json", description = "Print the figures as one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        if (bandwidthMib < 0) {
            throw new IllegalArgumentException("--bandwidth-mib must not be negative, got " + bandwidthMib);
        }
        ModelBench.Options options = new ModelBench.Options(promptTokens, genTokens, seed, interleave);
        Llama model = modelOptions.load();
        KvPolicy policy = kvOptions.policy(model);
        ModelBench.Result r;
        int threads;
        try (CpuBackend backend = modelOptions.backend(model, policy);
             Progress progress = new Progress("bench", "tokens")) {
            r = ModelBench.run(model, backend, options, progress);
        }
        // read before the probe, whose buffer would count
        OptionalLong peak = ResidentMemory.peak();
        OptionalLong anonymous = ResidentMemory.anonymous();
        OptionalLong files = ResidentMemory.files();
        double bandwidth = 0;
        try (Parallel parallel = modelOptions.parallel()) {
            threads = parallel.threads();
            if (bandwidthMib > 0) {
                bandwidth = MemoryBandwidth.measure((long) bandwidthMib << 20, 5, parallel);
            }
        }
        double limit = bandwidth / r.bytesPerToken();
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("model", modelOptions.model.toString());
            out.put("threads", (long) threads);
            out.put("kv_policy", policy.describe());
            out.put("prompt_tokens", (long) r.promptTokens());
            out.put("gen_tokens", (long) r.genTokens());
            out.put("interleaved", interleave);
            out.put("prefill_tokens_per_s", r.prefillTokensPerSecond());
            out.put("decode_tokens_per_s", r.decodeTokensPerSecond());
            out.put("time_to_first_token_s", r.firstTokenSeconds());
            out.put("weight_bytes_per_token", r.weightBytesPerToken());
            out.put("kv_bytes_per_token", r.kvBytesPerToken());
            out.put("peak_rss_bytes", peak.isPresent() ? (Object) peak.getAsLong() : null);
            out.put("rss_anonymous_bytes", anonymous.isPresent() ? (Object) anonymous.getAsLong() : null);
            out.put("rss_file_bytes", files.isPresent() ? (Object) files.getAsLong() : null);
            out.put("read_bandwidth_bytes_per_s", bandwidthMib > 0 ? (Object) bandwidth : null);
            out.put("bandwidth_limit_tokens_per_s", bandwidthMib > 0 ? (Object) limit : null);
            out.put("fraction_of_limit", bandwidthMib > 0 ? (Object) (r.decodeTokensPerSecond() / limit) : null);
            System.out.println(Json.write(out));
            return 0;
        }
        System.out.printf(Locale.ROOT, "model %s, %d threads, kv cache %s%s%n", modelOptions.model, threads, policy.describe(),
                interleave ? ", prefill and decode timed in turns" : "");
        System.out.printf(Locale.ROOT, "prefill  %8.2f tokens/s  (%d tokens in %.3f s)%n", r.prefillTokensPerSecond(), r.promptTokens(), r.prefillSeconds());
        System.out.printf(Locale.ROOT, "first token after %.3f s%n", r.firstTokenSeconds());
        System.out.printf(Locale.ROOT, "decode   %8.2f tokens/s  (%d tokens in %.3f s)%n", r.decodeTokensPerSecond(), r.genTokens() - 1, r.decodeSeconds());
        System.out.printf(Locale.ROOT, "read per decoded token: %s (weights %s, kv cache %s)%n", InspectCommand.bytes(r.bytesPerToken()),
                InspectCommand.bytes(r.weightBytesPerToken()), InspectCommand.bytes(r.kvBytesPerToken()));
        System.out.println("peak resident memory: " + (peak.isPresent() ? InspectCommand.bytes(peak.getAsLong())
                + (anonymous.isPresent() && files.isPresent() ? " (at the end: anonymous " + InspectCommand.bytes(anonymous.getAsLong())
                        + ", mapped files " + InspectCommand.bytes(files.getAsLong()) + ")" : "") : "unknown (no /proc/self/status)"));
        if (bandwidthMib > 0) {
            System.out.printf(Locale.ROOT, "memory read bandwidth %.2f GB/s (%d threads): limit %.2f tokens/s; decode at %.1f%% of it%n",
                    bandwidth / 1e9, threads, limit, 100 * r.decodeTokensPerSecond() / limit);
        }
        return 0;
    }
}
