package dev.binmos.gateway.openai;

import dev.binmos.gateway.openai.Responses.AssistantMessage;
import dev.binmos.gateway.openai.Responses.ChatChoice;
import dev.binmos.gateway.openai.Responses.ChatChunkChoice;
import dev.binmos.gateway.openai.Responses.ChatCompletion;
import dev.binmos.gateway.openai.Responses.ChatCompletionChunk;
import dev.binmos.gateway.openai.Responses.ChatLogprobs;
import dev.binmos.gateway.openai.Responses.Delta;
import dev.binmos.gateway.openai.Responses.TokenLogprob;
import dev.binmos.gateway.openai.Responses.Usage;
import dev.binmos.proto.v1.GeneratedToken;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** {@code chat.completion} responses and {@code chat.completion.chunk}s. */
final class ChatFormat implements OpenAiFormat {

    private static final String ASSISTANT = "assistant";

    private final String id;
    private final long created;
    private final String model;
    private final boolean logprobs;

    ChatFormat(String id, long created, String model, boolean logprobs) {
        this.id = id;
        this.created = created;
        this.model = model;
        this.logprobs = logprobs;
    }

    @Override
    public List<Object> opening() {
        return List.of(chunk(new Delta(ASSISTANT, ""), null, null, null));
    }

    @Override
    public Object tokenChunk(GeneratedToken token) {
        return chunk(new Delta(null, token.getText()), logprobs ? logprobs(List.of(token)) : null, null, null);
    }

    @Override
    public Object closingChunk(String rest, String finishReason, Usage usage) {
        return chunk(new Delta(null, rest.isEmpty() ? null : rest), null, finishReason, usage);
    }

    @Override
    public Object response(String text, List<GeneratedToken> tokens, String finishReason, Usage usage) {
        ChatChoice choice = new ChatChoice(0, new AssistantMessage(ASSISTANT, text), logprobs ? logprobs(tokens) : null,
                finishReason);
        return new ChatCompletion(id, "chat.completion", created, model, List.of(choice), usage);
    }

    private ChatCompletionChunk chunk(Delta delta, ChatLogprobs lp, String finishReason, Usage usage) {
        return new ChatCompletionChunk(id, "chat.completion.chunk", created, model,
                List.of(new ChatChunkChoice(0, delta, lp, finishReason)), usage);
    }

    private static ChatLogprobs logprobs(List<GeneratedToken> tokens) {
        List<TokenLogprob> content = new ArrayList<>();
        for (GeneratedToken token : tokens) {
            List<Integer> bytes = new ArrayList<>();
            for (byte b : token.getText().getBytes(StandardCharsets.UTF_8)) {
                bytes.add(b & 0xFF);
            }
            content.add(new TokenLogprob(token.getText(), token.getLogprob(), bytes, List.of()));
        }
        return new ChatLogprobs(content);
    }
}
