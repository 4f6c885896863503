package dev.binmos.gateway.openai;

import dev.binmos.gateway.openai.Responses.Usage;
import dev.binmos.proto.v1.GeneratedToken;
import java.util.List;

/** One request's response shape (completions or chat), as a whole or as stream chunks. Not thread-safe. */
interface OpenAiFormat {

    /** Chunks that open a stream, before the first token's. */
    List<Object> opening();

    /** The chunk of one generated token: its text (and log-probability when asked for). */
    Object tokenChunk(GeneratedToken token);

    /** The last chunk: the text no token carried, finish_reason and usage. */
    Object closingChunk(String rest, String finishReason, Usage usage);

    /** The whole response. */
    Object response(String text, List<GeneratedToken> tokens, String finishReason, Usage usage);
}
