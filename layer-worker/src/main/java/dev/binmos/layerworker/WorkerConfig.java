package dev.binmos.layerworker;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

/** What a layer worker serves and where it registers ({@code binmos.worker.*}). */
@ConfigMapping(prefix = "binmos.worker")
public interface WorkerConfig {

    /** The model: a GGUF file, a llama2.c checkpoint or a Hugging Face directory. */
    Path model();

    /** A llama2.c tokenizer file, for checkpoints that need one beside them under another name. */
    Optional<Path> tokenizer();

    /**
     * Name of the model in registrations and logs; default: the file name without its extension. The
     * router matches workers to its models by file hash, not by this name.
     */
    Optional<String> modelId();

    /** Lower-case hex SHA-256 of the model; computed at start (reads the file once) when absent. */
    Optional<String> modelSha256();

    /** First layer of this stage. */
    @WithDefault("0")
    int layerFrom();

    /** End of this stage's layers (exclusive); default: the model's layer count. */
    OptionalInt layerTo();

    /** Threads of the forward pass; default: available processors. */
    OptionalInt threads();

    /**
     * Attention cache: {@code dense}, or {@code pod} with the layout in the model's {@code pod.*} metadata
     * (written by {@code binmos pod-calibrate}); default: pod when the model has that metadata, else dense.
     */
    Optional<String> kvPolicy();

    /** Storage of keys and values: f32, f16 or q8_0. */
    @WithDefault("f32")
    String kvType();

    /** KV-cache bytes the sessions of this worker may reserve together. */
    @WithDefault("268435456")
    long kvCapacityBytes();

    /** host:port of the router to register with; absent: the worker runs unregistered. */
    Optional<String> router();

    /** host:port the router should call this worker's Stage service on; default 127.0.0.1:(HTTP port). */
    Optional<String> advertisedAddress();

    /** Unique name of this worker; default: a random one. */
    Optional<String> workerId();

    /** Longest wait, on shutdown, for open sessions to close before the worker stops anyway. */
    @WithDefault("60s")
    Duration drainTimeout();

    /** Steps whose answers are kept to answer a retried step without running it again. */
    @WithDefault("64")
    int rememberedSteps();

    /** Bytes of remembered answers at most (the eldest are forgotten first; the newest is always kept). */
    @WithDefault("67108864")
    long rememberedStepBytes();
}
