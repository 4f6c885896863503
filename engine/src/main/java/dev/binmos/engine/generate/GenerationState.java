package dev.binmos.engine.generate;

import dev.binmos.engine.sampling.Sampler;
import dev.binmos.engine.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The decisions of one generation, apart from running the model: sampling over the history, stop
 * tokens (BOS, EOS), stop strings with hold-back for streaming, max tokens and capacity. The
 * {@link Generator} drives it with a local backend; the router drives it with pipeline steps, so both
 * end a generation at the same token with the same text. Not thread-safe.
 */
public final class GenerationState {
    private final Tokenizer tokenizer;
    private final Sampler sampler;
    private final int maxTokens;
    private final int capacity;
    private final int promptTokens;
    private final StopText text;
    private final Tokenizer.Decoder decoder;
    private final int[] history;
    private int length;
    private int count;
    private boolean finished;
    private FinishReason reason = FinishReason.LENGTH;

    /**
     * @param history  the tokens the model has seen or will see before the first sampled one (a new
     *                 session: the prompt, BOS first); the sampler's repetition history
     * @param prompt   how many of them this request brought (reported as prompt tokens)
     * @param capacity positions the session may hold
     * @param onText   receives text as it becomes final
     */
    public GenerationState(Tokenizer tokenizer, Generation request, int[] history, int prompt, int capacity, Consumer<String> onText) {
        if (history.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        if (history.length > capacity) {
            throw new IllegalArgumentException("the prompt has " + history.length + " tokens, the context holds " + capacity);
        }
        this.tokenizer = tokenizer;
        this.sampler = new Sampler(request.sampling(), tokenizer.vocabSize());
        this.maxTokens = request.maxTokens();
        this.capacity = capacity;
        this.promptTokens = prompt;
        this.text = new StopText(request.stop(), onText);
        this.decoder = tokenizer.decoder();
        // at most maxTokens more, and never beyond capacity + 1 (the last sampled token is not run)
        this.history = Arrays.copyOf(history, history.length + Math.min(maxTokens, capacity + 1 - history.length));
        this.length = history.length;
        this.finished = maxTokens == 0;
    }

    /** True once no more tokens will be sampled. */
    public boolean finished() {
        return finished;
    }

    /** The next token from the logits of the last position. */
    public int sample(float[] logits) {
        return sampler.sample(logits, history, length);
    }

    /**
     * Records a sampled token. Returns true when the generation goes on: the token must then be run at
     * position {@link #length()} − 1 to get the next logits. A stop token ends it without being kept.
     */
    public boolean accept(int token) {
        if (finished) {
            throw new IllegalStateException("the generation has finished");
        }
        if (token == tokenizer.eos() || token == tokenizer.bos()) {
            reason = FinishReason.STOP;
            finished = true;
            return false;
        }
        history[length++] = token;
        count++;
        if (text.append(decoder.push(token))) {
            reason = FinishReason.STOP;
            finished = true;
        } else if (count == maxTokens || length > capacity) {
            finished = true;
        }
        return !finished;
    }

    /** Tokens in the history: the last accepted one is at position length() − 1. */
    public int length() {
        return length;
    }

    /** The generated tokens so far (stop tokens excluded). */
    public int[] generated() {
        return Arrays.copyOfRange(history, length - count, length);
    }

    /** Ends the generation: emits the text still held back and returns the completion. */
    public Completion finish() {
        finished = true;
        if (!text.stopped) {
            text.append(decoder.flush());
        }
        return new Completion(generated(), text.finish(), reason, promptTokens);
    }

    /** Accumulates text, cuts it at the first stop string, and emits what can no longer become one. */
    private static final class StopText {
        private final List<String> stops;
        private final Consumer<String> sink;
        private final int holdBack;
        private final StringBuilder text = new StringBuilder();
        private int emitted;
        private boolean stopped;

        StopText(List<String> stops, Consumer<String> sink) {
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
