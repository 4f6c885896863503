package dev.binmos.cli;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Parallel;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every command that runs a model shares. */
final class ModelOptions {
    @Option(names = "--model", required = true, description = "Model file: GGUF, llama2.c checkpoint, or Hugging Face directory.")
    Path model;

    @Option(names = "--tokenizer", description = "llama2.c tokenizer file (default: the model's own, or tok<vocab>.bin / tokenizer.bin beside it).")
    Path tokenizer;

    @Option(names = "--threads", description = "Worker threads for matrix products (default: all processors).")
    Integer threads;

    Llama load() {
        return ModelLoader.load(model, tokenizer);
    }

    CpuBackend backend(Llama llama) {
        return backend(llama, KvPolicy.dense());
    }

    CpuBackend backend(Llama llama, KvPolicy policy) {
        return new CpuBackend(llama, parallel(), policy);
    }

    Parallel parallel() {
        return new Parallel(threads == null ? Runtime.getRuntime().availableProcessors() : threads);
    }
}
