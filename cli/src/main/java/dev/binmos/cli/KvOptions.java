package dev.binmos.cli;

import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.kv.KvPrecision;
import dev.binmos.engine.kv.KvStats;
import dev.binmos.engine.kv.PodGroups;
import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.kv.PodMode;
import dev.binmos.engine.model.Llama;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * KV cache options of the commands that run a model. The model's own pod.* metadata (from pod-calibrate)
 * makes PoD the default; the flags override it.
 */
final class KvOptions {
    @Option(names = "--kv-policy", description = "dense, pod, streaming or h2o (default: pod when the model has pod.* metadata, else dense).")
    String policy;

    @Option(names = "--kv-type", defaultValue = "f32", description = "Storage of keys and values: f32, f16, or q8_0 (a byte a number and a scale per 32) (default: ${DEFAULT-VALUE}).")
    String type;

    @Option(names = "--pod-sinks", description = "Attention sinks S: the first S positions are always proximal (PoD; also StreamingLLM's sinks). Default: the model's, else 16.")
    Integer sinks;

    @Option(names = "--pod-window", description = "Recent window W: the last W positions up to a query are proximal (PoD; also StreamingLLM's and H2O's window). Default: the model's.")
    Integer window;

    @Option(names = "--pod-groups", description = "PoD layer groups, e.g. 0-1,2-4 (per layer) or one list per kv head separated by ';'. Default: the model's.")
    String groups;

    @Option(names = "--pod-mode", description = "shared-keys or shared-scores. Default: the model's, else shared-keys.")
    String mode;

    @Option(names = "--h2o-heavy", description = "H2O: heavy-hitter positions kept besides the window, per kv head (or per head).")
    Integer heavy;

    @Option(names = "--h2o-per-head", description = "H2O: each query head keeps its own heavy hitters (default: each kv head, by its heads' summed attention).")
    boolean perHead;

    KvPolicy policy(Llama model) {
        Optional<PodLayout> own = PodLayout.fromMetadata(model.source().metadata(), model.config());
        KvPrecision precision = KvPrecision.parse(type.toLowerCase(Locale.ROOT));
        String kind = policy != null ? policy.toLowerCase(Locale.ROOT) : own.isPresent() ? "pod" : "dense";
        int s = sinks != null ? sinks : own.map(PodLayout::sinks).orElse(PodLayout.DEFAULT_SINKS);
        return switch (kind) {
            case "dense" -> new KvPolicy.Dense(precision);
            case "pod" -> new KvPolicy.Pod(new PodLayout(s, window(own, "pod"),
                    mode != null ? PodMode.parse(mode) : own.map(PodLayout::mode).orElse(PodMode.SHARED_KEYS),
                    groups != null ? PodGroups.parse(groups, model.config().layers(), model.config().kvHeads())
                            : own.map(PodLayout::groups).orElseThrow(() -> new IllegalArgumentException(
                                    "--kv-policy pod needs --pod-groups (or a model calibrated with pod-calibrate)"))),
                    precision);
            case "streaming" -> new KvPolicy.Streaming(s, window(own, "streaming"), precision);
            case "h2o" -> {
                if (heavy == null) {
                    throw new IllegalArgumentException("--kv-policy h2o needs --h2o-heavy");
                }
                yield new KvPolicy.H2o(heavy, window(own, "h2o"), perHead, precision);
            }
            default -> throw new IllegalArgumentException("unknown --kv-policy " + policy + "; choose dense, pod, streaming or h2o");
        };
    }

    private int window(Optional<PodLayout> own, String kind) {
        if (window != null) {
            return window;
        }
        return own.map(PodLayout::window).orElseThrow(() -> new IllegalArgumentException(
                "--kv-policy " + kind + " needs --pod-window (or a model calibrated with pod-calibrate)"));
    }

    /** "kv cache: pod …, 1.2 MiB (dense 2.0 MiB, saving 40.0%)". */
    static String describe(KvPolicy policy, KvStats stats) {
        return String.format(Locale.ROOT, "kv cache: %s, %s (dense %s, saving %.1f%%)", policy.describe(),
                InspectCommand.bytes(stats.bytes()), InspectCommand.bytes(stats.denseBytes()), 100 * stats.saving());
    }
}
