package dev.binmos.tests;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.generate.Completion;
import dev.binmos.engine.generate.Generation;
import dev.binmos.engine.generate.Generator;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.tokenizer.Tokenizer;
import dev.binmos.engine.util.Parallel;
import java.nio.file.Path;

/** The single-process engine in the test JVM: what the distributed suite must reproduce. */
public final class Reference implements AutoCloseable {
    private final Llama model;
    private final CpuBackend backend;

    public Reference(Path file) {
        this.model = ModelLoader.load(file, null);
        // the model's own attention: PoD when its metadata has a layout, as the workers run it
        this.backend = new CpuBackend(model, new Parallel(1), KvPolicy.of(model));
    }

    public Tokenizer tokenizer() {
        return model.tokenizer();
    }

    public int context() {
        return model.config().contextLength();
    }

    /** Generator over a session with room for the whole context, as the router runs sessions. */
    public Completion generate(int[] prompt, Generation request) {
        Session session = backend.openSession("reference", context());
        return new Generator(backend, model.tokenizer()).generate(session, prompt, request, text -> { });
    }

    @Override
    public void close() {
        backend.close();
    }
}
