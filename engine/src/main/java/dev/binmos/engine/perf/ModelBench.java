package dev.binmos.engine.perf;

import dev.binmos.engine.backend.Backend;
import dev.binmos.engine.backend.Chunk;
import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.linear.Linear;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.LayerWeights;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.ProgressListener;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Whole-model speed on one backend: a prompt of random token ids prefilled in one batched forward, then
 * greedy decoding one token per forward. A short warm-up session runs first, so the JIT has compiled the
 * kernels before anything is timed.
 * <p>
 * Interleaved, the same work is timed in turns instead: the prompt's chunks of {@value #PREFILL_CHUNK}
 * tokens (the chunks the one forward runs anyway) on one session, each followed by its share of the decode
 * steps on a second session that holds the same prompt (its own prefill untimed). Prefill and decode then
 * see the same machine, which a shared VM whose speed drifts by tens of percent over a minute does not
 * give two phases run one after the other.
 */
public final class ModelBench {
    /** {@link CpuBackend}'s own chunk of a long forward. */
    static final int PREFILL_CHUNK = CpuBackend.CHUNK;

    private ModelBench() {
    }

    /**
     * @param promptTokens prompt length, BOS included
     * @param genTokens    generated tokens: the first from the prefill's logits, each next one from a one-token forward
     */
    public record Options(int promptTokens, int genTokens, long seed, boolean interleave) {
        public Options {
            if (promptTokens < 1) {
                throw new IllegalArgumentException("prompt tokens must be at least 1, got " + promptTokens);
            }
            if (genTokens < 2) {
                throw new IllegalArgumentException("generated tokens must be at least 2 (one from the prefill, one decoded), got " + genTokens);
            }
        }
    }

    /**
     * @param prefillSeconds     the prompt's forward pass
     * @param firstTokenSeconds  prefill plus choosing the first token (time to first token); interleaved, the
     *                           prefill's turns and that choice
     * @param decodeSeconds      the genTokens − 1 one-token forwards and their choices
     * @param weightBytesPerToken bytes of weights one decode step reads (every block linear, the classifier,
     *                            norms, one embedding row)
     * @param kvBytesPerToken    KV-cache bytes a decode step reads, mean over the decode steps
     */
    public record Result(int promptTokens, int genTokens, double prefillSeconds, double firstTokenSeconds, double decodeSeconds,
                         long weightBytesPerToken, long kvBytesPerToken) {

        public double prefillTokensPerSecond() {
            return promptTokens / prefillSeconds;
        }

        public double decodeTokensPerSecond() {
            return (genTokens - 1) / decodeSeconds;
        }

        public long bytesPerToken() {
            return weightBytesPerToken + kvBytesPerToken;
        }
    }

    public static Result run(Llama model, Backend backend, Options options, ProgressListener progress) {
        Configuration c = model.config();
        int positions = options.promptTokens() + options.genTokens() - 1;
        if (positions > c.contextLength()) {
            throw new IllegalArgumentException(options.promptTokens() + " prompt + " + options.genTokens()
                    + " generated tokens need " + positions + " positions; the model's context is " + c.contextLength());
        }
        int[] prompt = prompt(model, options.promptTokens(), options.seed());
        warmUp(backend, prompt);
        progress.update(0, options.genTokens());
        if (options.interleave()) {
            return interleaved(model, backend, options, prompt, positions, progress);
        }
        int token;

        Session session = backend.openSession("bench", positions);
        long start = System.nanoTime();
        float[] logits = backend.forward(session, prompt, 0);
        long prefilled = System.nanoTime();
        token = argmax(logits);
        long first = System.nanoTime();
        progress.update(1, options.genTokens());
        long kvRead = 0;
        for (int g = 1; g < options.genTokens(); g++) {
            kvRead += session.cache().bytes();
            token = argmax(backend.forward(session, new int[] {token}, session.length()));
            progress.update(g + 1, options.genTokens());
        }
        long end = System.nanoTime();
        return new Result(options.promptTokens(), options.genTokens(), (prefilled - start) / 1e9, (first - start) / 1e9,
                (end - first) / 1e9, weightBytesPerToken(model), kvRead / (options.genTokens() - 1));
    }

    private static Result interleaved(Llama model, Backend backend, Options options, int[] prompt, int positions,
                                      ProgressListener progress) {
        Session decoding = backend.openSession("bench-decode", positions);
        int token = argmax(backend.forward(decoding, prompt, 0));
        progress.update(1, options.genTokens());
        Session prefilling = backend.openSession("bench", prompt.length);
        int chunks = (prompt.length + PREFILL_CHUNK - 1) / PREFILL_CHUNK;
        int steps = options.genTokens() - 1;
        long prefillNanos = 0;
        long decodeNanos = 0;
        long kvRead = 0;
        int decoded = 0;
        for (int i = 0; i < chunks; i++) {
            int from = i * PREFILL_CHUNK;
            int[] part = Arrays.copyOfRange(prompt, from, Math.min(prompt.length, from + PREFILL_CHUNK));
            long start = System.nanoTime();
            if (i == chunks - 1) {
                argmax(backend.forward(prefilling, part, from));
            } else {
                // as the one forward runs every chunk but the last: no logits
                float[] hidden = new float[part.length * model.config().dim()];
                backend.embed(part, hidden);
                backend.forwardLayers(List.of(new Chunk(prefilling, from, part.length)), hidden, 0, model.config().layers());
            }
            prefillNanos += System.nanoTime() - start;
            for (int until = (int) ((long) steps * (i + 1) / chunks); decoded < until; decoded++) {
                kvRead += decoding.cache().bytes();
                long step = System.nanoTime();
                token = argmax(backend.forward(decoding, new int[] {token}, decoding.length()));
                decodeNanos += System.nanoTime() - step;
                progress.update(decoded + 2, options.genTokens());
            }
        }
        return new Result(options.promptTokens(), options.genTokens(), prefillNanos / 1e9, prefillNanos / 1e9, decodeNanos / 1e9,
                weightBytesPerToken(model), kvRead / steps);
    }

    /** A short session whose cache is dropped before the measured one starts. */
    private static void warmUp(Backend backend, int[] prompt) {
        int warmPrompt = Math.min(prompt.length, 32);
        Session warm = backend.openSession("bench-warmup", warmPrompt + 8);
        int token = argmax(backend.forward(warm, Arrays.copyOf(prompt, warmPrompt), 0));
        for (int p = warmPrompt; p < warmPrompt + 7; p++) {
            token = argmax(backend.forward(warm, new int[] {token}, p));
        }
    }

    /** BOS, then ids drawn uniformly from the ordinary tokens (past the first three, the special ones in Llama vocabularies). */
    static int[] prompt(Llama model, int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int vocab = model.config().vocabSize();
        int[] tokens = new int[length];
        tokens[0] = model.tokenizer().bos();
        for (int i = 1; i < length; i++) {
            tokens[i] = 3 + random.nextInt(vocab - 3);
        }
        return tokens;
    }

    /** Bytes of weights one decode step reads. */
    public static long weightBytesPerToken(Llama model) {
        Configuration c = model.config();
        long bytes = model.weights().classifier().weightBytes()
                + model.weights().tokenEmbeddings().type().byteSize(c.dim())
                + (long) Float.BYTES * c.dim();
        for (LayerWeights layer : model.weights().layers()) {
            for (Linear linear : layer.linears()) {
                bytes += linear.weightBytes();
            }
            bytes += (long) Float.BYTES * (layer.attnNorm().length + layer.ffnNorm().length);
        }
        return bytes;
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
