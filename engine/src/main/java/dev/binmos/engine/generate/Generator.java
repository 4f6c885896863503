package dev.binmos.engine.generate;

import dev.binmos.engine.backend.Backend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.sampling.Sampler;
import dev.binmos.engine.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The token loop of one session: prefill the prompt in one batched forward, then sample and feed one
 * token at a time until a stop token, a stop string, max tokens or the session's capacity.
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
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        if (prompt.length > session.cache().capacity()) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens, the context holds " + session.cache().capacity());
        }
        Sampler sampler = new Sampler(request.sampling(), tokenizer.vocabSize());
        int[] history = Arrays.copyOf(prompt, prompt.length + request.maxTokens());
        int length = prompt.length;
        StopText text = new StopText(request.stop(), onText);
        Tokenizer.Decoder decoder = tokenizer.decoder();
        int[] generated = new int[request.maxTokens()];
        int count = 0;
        FinishReason reason = FinishReason.LENGTH;
        float[] logits = request.maxTokens() == 0 ? null : backend.forward(session, prompt, 0);
        while (count < request.maxTokens()) {
            int next = sampler.sample(logits, history, length);
            if (next == tokenizer.eos() || next == tokenizer.bos()) {
                reason = FinishReason.STOP;
                break;
            }
            generated[count++] = next;
            history[length++] = next;
            if (text.append(decoder.push(next))) {
                reason = FinishReason.STOP;
                break;
            }
            if (count == request.maxTokens() || length > session.cache().capacity()) {
                break;
            }
            logits = backend.forward(session, new int[] {next}, length - 1);
        }
        if (!text.stopped) {
            text.append(decoder.flush());
        }
        return new Completion(Arrays.copyOf(generated, count), text.finish(), reason, prompt.length);
    }

    /** Accumulates text, cuts it at the first stop string, and emits what can no longer become one. */
    private static final class StopText {
        private final java.util.List<String> stops;
        private final Consumer<String> sink;
        private final int holdBack;
        private final StringBuilder text = new StringBuilder();
        private int emitted;
        private boolean stopped;

        StopText(java.util.List<String> stops, Consumer<String> sink) {
            this.stops = stops;
            this.sink = sink;
            this.holdBack = stops.stream().mapToInt(String::length).max().orElse(1) - 1;
        }

        /** Returns true when a stop string has appeared. */
        boolean append(String piece) {
            int searchFrom = Math.max(0, text.length() - holdBack);
            text.append(piece);
            int cut = -1;
            for (String stop : stops) {
                int at = text.indexOf(stop, searchFrom);
                if (at >= 0 && (cut < 0 || at < cut)) {
                    cut = at;
                }
            }
            if (cut >= 0) {
                text.setLength(cut);
                stopped = true;
            }
            emitUpTo(stopped ? text.length() : Math.max(emitted, text.length() - holdBack));
            return stopped;
        }

        String finish() {
            emitUpTo(text.length());
            return text.toString();
        }

        private void emitUpTo(int end) {
            if (end > emitted) {
                sink.accept(text.substring(emitted, end));
                emitted = end;
            }
        }
    }
}
