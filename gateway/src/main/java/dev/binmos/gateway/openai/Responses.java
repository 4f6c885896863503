package dev.binmos.gateway.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** The OpenAI response shapes the gateway writes (snake_case on the wire). */
public final class Responses {

    private Responses() {
    }

    public record Usage(int promptTokens, int completionTokens, int totalTokens) {
        static Usage of(dev.binmos.proto.v1.Usage usage) {
            return new Usage(usage.getPromptTokens(), usage.getCompletionTokens(), usage.getTotalTokens());
        }
    }

    /** {@code text_completion}: the whole response, or one chunk of a stream (usage only on the last). */
    public record Completion(String id, String object, long created, String model, List<CompletionChoice> choices,
            @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage) {
    }

    public record CompletionChoice(int index, String text, CompletionLogprobs logprobs, String finishReason) {
    }

    /** Legacy completions log-probabilities; top_logprobs is always null (alternatives are not available). */
    public record CompletionLogprobs(List<String> tokens, List<Float> tokenLogprobs, List<Object> topLogprobs,
            List<Integer> textOffset) {
    }

    /** {@code chat.completion}. */
    public record ChatCompletion(String id, String object, long created, String model, List<ChatChoice> choices,
            Usage usage) {
    }

    public record ChatChoice(int index, AssistantMessage message, ChatLogprobs logprobs, String finishReason) {
    }

    public record AssistantMessage(String role, String content) {
    }

    /** {@code chat.completion.chunk} (usage only on the last). */
    public record ChatCompletionChunk(String id, String object, long created, String model, List<ChatChunkChoice> choices,
            @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage) {
    }

    public record ChatChunkChoice(int index, Delta delta, ChatLogprobs logprobs, String finishReason) {
    }

    /** What a chunk adds to the message: the role once, then content. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Delta(String role, String content) {
    }

    public record ChatLogprobs(List<TokenLogprob> content) {
    }

    /** top_logprobs is always empty (alternatives are not available). */
    public record TokenLogprob(String token, float logprob, List<Integer> bytes, List<Object> topLogprobs) {
    }

    /** {@code GET /v1/models}. */
    public record ModelList(String object, List<Model> data) {
    }

    /** max_model_len as vLLM reports it. */
    public record Model(String id, String object, long created, String ownedBy, int maxModelLen) {
    }
}
