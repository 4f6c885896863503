package dev.binmos.layerworker;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.format.ModelHash;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.kv.DenseKvCache;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Parallel;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

/**
 * The model as this stage sees it: layers [from, to) on a {@link CpuBackend}. The file is
 * memory-mapped whole, but a forward pass reads only the tensors it uses: this range's blocks, the
 * embeddings on the first stage, final norm and classifier on the last. Loaded at start, so the worker
 * is ready only once it can serve.
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
        int threads = config.threads().orElse(Runtime.getRuntime().availableProcessors());
        this.backend = new CpuBackend(model, new Parallel(threads));
        LOG.infof("model %s (sha256 %s…): layers [%d, %d) of %d, %d threads, loaded in %d ms", id, sha256.substring(0, 12),
                from, to, layers, threads, (System.nanoTime() - start) / 1_000_000);
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

    /** KV bytes one position takes in this stage's layers (dense F32 keys and values). */
    public long kvBytesPerPosition() {
        return (long) (to - from) * 2 * model.config().kvDim() * Float.BYTES;
    }

    /** Positions the KV cache allocates at once. */
    public int kvBlockPositions() {
        return DenseKvCache.BLOCK;
    }

    /** Bytes a session of {@code positions} positions takes, in whole blocks. */
    public long kvBytes(int positions) {
        long blocks = (positions + kvBlockPositions() - 1) / kvBlockPositions();
        return blocks * kvBlockPositions() * kvBytesPerPosition();
    }

    @PreDestroy
    void close() {
        backend.close();
    }
}
