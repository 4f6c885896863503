package dev.binmos.layerworker;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.format.ModelHash;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.kv.KvFootprint;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.kv.KvPrecision;
import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Parallel;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.Locale;
import org.jboss.logging.Logger;

/**
 * The model as this stage sees it: layers [from, to) on a {@link CpuBackend}. The file is
 * memory-mapped whole, but a forward pass reads only the tensors it uses: this range's blocks, the
 * embeddings on the first stage, final norm and classifier on the last. Loaded at start, so the worker
 * is ready only once it can serve. Sessions keep the KV cache of one policy, dense or PoD; a PoD group
 * must lie within one stage, so a range that starts inside a group is refused at start.
 */
@Startup
@Singleton
public class StageModel {
    private static final Logger LOG = Logger.getLogger(StageModel.class);

    private final Llama model;
    private final CpuBackend backend;
    private final String id;
    private final String sha256;
    private final int from;
    private final int to;
    private final KvPolicy policy;
    private final KvFootprint footprint;

    StageModel(WorkerConfig config) {
        long start = System.nanoTime();
        this.model = ModelLoader.load(config.model(), config.tokenizer().orElse(null));
        int layers = model.config().layers();
        this.from = config.layerFrom();
        this.to = config.layerTo().orElse(layers);
        if (from < 0 || from >= to || to > layers) {
            throw new IllegalArgumentException("binmos.worker.layer-from/layer-to: [" + from + ", " + to
                    + ") is not a layer range of " + config.model() + ", which has " + layers + " layers");
        }
        this.id = config.modelId().orElseGet(() -> stem(config.model().getFileName().toString()));
        this.sha256 = config.modelSha256().orElseGet(() -> ModelHash.sha256(config.model()));
        this.policy = policy(model, config, from, to);
        this.footprint = policy.footprint(model.config(), from, to);
        int threads = config.threads().orElse(Runtime.getRuntime().availableProcessors());
        this.backend = new CpuBackend(model, new Parallel(threads), policy);
        LOG.infof("model %s (sha256 %s…): layers [%d, %d) of %d, %d threads, kv cache %s, loaded in %d ms", id, sha256.substring(0, 12),
                from, to, layers, threads, policy.describe(), (System.nanoTime() - start) / 1_000_000);
    }

    private static KvPolicy policy(Llama model, WorkerConfig config, int from, int to) {
        KvPrecision precision = KvPrecision.parse(config.kvType().toLowerCase(Locale.ROOT));
        var own = PodLayout.fromMetadata(model.source().metadata(), model.config());
        String kind = config.kvPolicy().map(k -> k.toLowerCase(Locale.ROOT)).orElse(own.isPresent() ? "pod" : "dense");
        return switch (kind) {
            case "dense" -> new KvPolicy.Dense(precision);
            case "pod" -> {
                PodLayout layout = own.orElseThrow(() -> new IllegalArgumentException("binmos.worker.kv-policy=pod: " + config.model()
                        + " has no pod.* metadata; write it with binmos pod-calibrate"));
                for (int l = from; l < to; l++) {
                    for (int g = 0; g < model.config().kvHeads(); g++) {
                        if (layout.groups().anchor(l, g) < from) {
                            throw new IllegalArgumentException("layers [" + from + ", " + to + ") start inside a PoD group: layer " + l
                                    + " (kv head " + g + ") borrows keys from layer " + layout.groups().anchor(l, g)
                                    + " of an earlier stage; calibrate with binmos pod-calibrate --anchors " + from + " (groups " + layout.groups() + ")");
                        }
                    }
                }
                yield new KvPolicy.Pod(layout, precision);
            }
            default -> throw new IllegalArgumentException("binmos.worker.kv-policy: unknown policy " + kind + "; choose dense or pod");
        };
    }

    private static String stem(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    public CpuBackend backend() {
        return backend;
    }

    public Configuration config() {
        return model.config();
    }

    public String id() {
        return id;
    }

    public String sha256() {
        return sha256;
    }

    public int from() {
        return from;
    }

    public int to() {
        return to;
    }

    public boolean first() {
        return from == 0;
    }

    public boolean last() {
        return to == model.config().layers();
    }

    public KvPolicy policy() {
        return policy;
    }

    /** What a session holds in this stage's layers, as a closed form of its length (announced to the router). */
    public KvFootprint footprint() {
        return footprint;
    }

    /** Bytes a session of {@code positions} positions takes, in whole blocks. */
    public long kvBytes(int positions) {
        return footprint.bytes(positions);
    }

    @PreDestroy
    void close() {
        backend.close();
    }
}
