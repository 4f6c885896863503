package dev.binmos.gateway.openai;

import java.util.List;

/**
 * The fields {@code /v1/completions} and {@code /v1/chat/completions} share. Names are snake_case on the wire
 * ({@code quarkus.jackson.property-naming-strategy}); null means absent.
 */
public interface OpenAiRequest {

    String model();

    Integer maxTokens();

    Double temperature();

    Double topP();

    /** vLLM's extension; -1 means off, as in vLLM. */
    Integer topK();

    /** vLLM's extension. */
    Double minP();

    /** vLLM's extension (multiplicative, CTRL-style); OpenAI's additive penalties are not supported. */
    Double repetitionPenalty();

    /** Accepted only at 0 (OpenAI's neutral value). */
    Double frequencyPenalty();

    /** Accepted only at 0 (OpenAI's neutral value). */
    Double presencePenalty();

    Long seed();

    /** A string or a list of strings on the wire. */
    List<String> stop();

    Boolean stream();

    /** Accepted for compatibility: the last chunk of a stream always carries usage. */
    StreamOptions streamOptions();

    /** Accepted only at 1. */
    Integer n();

    /** Accepted and ignored. */
    String user();

    record StreamOptions(Boolean includeUsage) {
    }
}
