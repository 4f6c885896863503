package dev.binmos.router;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** What the router serves and how it schedules ({@code binmos.router.*}). */
@ConfigMapping(prefix = "binmos.router")
public interface RouterConfig {

    /** Served models by id: {@code binmos.router.models.<id>.path=...}. */
    Map<String, ModelConfig> models();

    interface ModelConfig {
        /** The model (the router reads its configuration and tokenizer, never its weights). */
        Path path();

        /** A llama2.c tokenizer file, when the model does not carry or sit beside its own. */
        Optional<Path> tokenizer();

        /** Lower-case hex SHA-256 of the model; computed at start (reads the file once) when absent. */
        Optional<String> sha256();
    }

    /** How often workers send heartbeats. */
    @WithDefault("1s")
    Duration heartbeatInterval();

    /** A worker silent this long is dropped, with the sessions it held. */
    @WithDefault("5s")
    Duration heartbeatTimeout();

    /** Prompt tokens of one session in one step: longer prompts are prefilled in chunks. */
    @WithDefault("64")
    int prefillChunk();

    /** Tokens of all sessions in one step (decode tokens first, then prefill chunks). */
    @WithDefault("512")
    int maxStepTokens();

    /** Sessions generating at once on one pipeline; more wait in the queue. */
    @WithDefault("64")
    int maxBatchSessions();

    /** Requests waiting for KV cache or a batch slot; beyond it RESOURCE_EXHAUSTED. */
    @WithDefault("256")
    int maxWaiting();

    /** Longest wait in the queue before RESOURCE_EXHAUSTED. */
    @WithDefault("60s")
    Duration maxQueueTime();

    /** A finished session stays open this long for a continuation by id, then is closed. */
    @WithDefault("5m")
    Duration sessionIdle();

    /** Hidden states between stages: f32 (exact) or f16 (half the bytes). */
    @WithDefault("f32")
    HiddenFormat hiddenEncoding();

    enum HiddenFormat { F32, F16 }

    /** Deadline of one stage call. */
    @WithDefault("60s")
    Duration stageTimeout();

    /**
     * Deadline of a stage's session calls (open, resize, close): they run in order on one control thread,
     * so a stage that stops answering must not hold up placement for long.
     */
    @WithDefault("5s")
    Duration controlTimeout();
}
