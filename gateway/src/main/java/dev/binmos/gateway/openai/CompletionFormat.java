package dev.binmos.gateway.openai;

import dev.binmos.gateway.openai.Responses.Completion;
import dev.binmos.gateway.openai.Responses.CompletionChoice;
import dev.binmos.gateway.openai.Responses.CompletionLogprobs;
import dev.binmos.gateway.openai.Responses.Usage;
import dev.binmos.proto.v1.GeneratedToken;
import java.util.ArrayList;
import java.util.List;

/** {@code text_completion} responses and chunks. */
final class CompletionFormat implements OpenAiFormat {

    private final String id;
    private final long created;
    private final String model;
    private final boolean logprobs;
    /** Length of the text streamed so far: the text_offset of the next token. */
    private int offset;

    CompletionFormat(String id, long created, String model, boolean logprobs) {
        this.id = id;
        this.created = created;
        this.model = model;
        this.logprobs = logprobs;
    }

    @Override
    public List<Object> opening() {
        return List.of();
    }

    @Override
    public Object tokenChunk(GeneratedToken token) {
        CompletionLogprobs lp = logprobs ? logprobs(List.of(token), offset) : null;
        offset += token.getText().length();
        return completion(token.getText(), lp, null, null);
    }

    @Override
    public Object closingChunk(String rest, String finishReason, Usage usage) {
        return completion(rest, null, finishReason, usage);
    }

    @Override
    public Object response(String text, List<GeneratedToken> tokens, String finishReason, Usage usage) {
        return completion(text, logprobs ? logprobs(tokens, 0) : null, finishReason, usage);
    }

    private Completion completion(String text, CompletionLogprobs lp, String finishReason, Usage usage) {
        return new Completion(id, "text_completion", created, model, List.of(new CompletionChoice(0, text, lp, finishReason)),
                usage);
    }

    private static CompletionLogprobs logprobs(List<GeneratedToken> tokens, int offset) {
        List<String> texts = new ArrayList<>();
        List<Float> values = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        for (GeneratedToken token : tokens) {
            texts.add(token.getText());
            values.add(token.hasLogprob() ? token.getLogprob() : null);
            offsets.add(offset);
            offset += token.getText().length();
        }
        return new CompletionLogprobs(texts, values, null, offsets);
    }
}
