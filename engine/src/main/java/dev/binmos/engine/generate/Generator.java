package dev.binmos.engine.generate;

import dev.binmos.engine.backend.Backend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.tokenizer.Tokenizer;
import java.util.function.Consumer;

/**
 * The token loop of one session: prefill the prompt in one batched forward, then sample and feed one
 * token at a time until a stop token, a stop string, max tokens or the session's capacity (the
 * decisions are {@link GenerationState}'s).
 */
public final class Generator {
    private final Backend backend;
    private final Tokenizer tokenizer;

    public Generator(Backend backend, Tokenizer tokenizer) {
        this.backend = backend;
        this.tokenizer = tokenizer;
    }

    /**
     * @param prompt token ids, BOS first; run from position 0 of the session
     * @param onText receives text as it becomes final (held back while it could be the start of a stop string)
     */
    public Completion generate(Session session, int[] prompt, Generation request, Consumer<String> onText) {
        GenerationState state = new GenerationState(tokenizer, request, prompt, prompt.length, session.cache().capacity(), onText);
        if (!state.finished()) {
            float[] logits = backend.forward(session, prompt, 0);
            while (true) {
                int next = state.sample(logits);
                if (!state.accept(next)) {
                    break;
                }
                logits = backend.forward(session, new int[] {next}, state.length() - 1);
            }
        }
        return state.finish();
    }
}
