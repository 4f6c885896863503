package dev.binmos.gateway.openai;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * {@code POST /v1/completions}.
 *
 * @param prompt   a string or a list of token ids
 * @param logprobs only 0: the sampled token's log-probability (no alternatives)
 */
public record CompletionRequest(
        String model,
        JsonNode prompt,
        Integer maxTokens,
        Double temperature,
        Double topP,
        Integer topK,
        Double minP,
        Double repetitionPenalty,
        Double frequencyPenalty,
        Double presencePenalty,
        Long seed,
        @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<String> stop,
        Boolean stream,
        StreamOptions streamOptions,
        Integer n,
        String user,
        Integer logprobs) implements OpenAiRequest {
}
