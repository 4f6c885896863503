package dev.binmos.gateway.openai;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * {@code POST /v1/chat/completions}.
 *
 * @param maxCompletionTokens OpenAI's newer name for max_tokens; set at most one of them
 * @param logprobs            the sampled token's log-probability per token
 * @param topLogprobs         only 0 (alternatives are not available)
 */
public record ChatCompletionRequest(
        String model,
        List<Message> messages,
        Integer maxTokens,
        Integer maxCompletionTokens,
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
        Boolean logprobs,
        Integer topLogprobs) implements OpenAiRequest {

    /** @param content a string, or a list of {@code {"type": "text", "text": ...}} parts */
    public record Message(String role, JsonNode content) {
    }
}
