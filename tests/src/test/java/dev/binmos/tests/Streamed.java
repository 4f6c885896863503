package dev.binmos.tests;

import dev.binmos.proto.v1.GenerateRequest;
import dev.binmos.proto.v1.GenerateResponse;
import dev.binmos.proto.v1.GenerationFinished;
import dev.binmos.proto.v1.GenerationGrpc;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What one Generate stream delivered: the tokens, the whole text (every token's text, then the
 * finished message's) and the finished message.
 */
public record Streamed(List<Integer> tokens, String text, GenerationFinished finished) {

    public int[] tokenArray() {
        return tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Calls Generate and reads the stream to its end. */
    public static Streamed call(GenerationGrpc.GenerationBlockingStub stub, GenerateRequest request) {
        return read(stub.withDeadlineAfter(120, TimeUnit.SECONDS).generate(request));
    }

    /** Reads a Generate stream to its end. */
    public static Streamed read(Iterator<GenerateResponse> responses) {
        List<Integer> tokens = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        while (responses.hasNext()) {
            GenerateResponse response = responses.next();
            if (response.hasToken()) {
                tokens.add(response.getToken().getId());
                text.append(response.getToken().getText());
            } else {
                text.append(response.getFinished().getText());
                if (responses.hasNext()) {
                    throw new AssertionError("a message after GenerationFinished: " + responses.next());
                }
                return new Streamed(tokens, text.toString(), response.getFinished());
            }
        }
        throw new AssertionError("the stream ended without GenerationFinished after " + tokens.size() + " tokens");
    }
}
