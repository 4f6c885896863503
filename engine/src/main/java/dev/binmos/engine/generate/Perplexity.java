package dev.binmos.engine.generate;

import dev.binmos.engine.backend.Backend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.kv.KvStats;
import dev.binmos.engine.tokenizer.Tokenizer;
import dev.binmos.engine.util.ProgressListener;
import java.util.ArrayList;
import java.util.List;

/**
 * Perplexity, defined once for the whole project: the text is split on {@code <|endoftext|>}; each
 * stripped, non-empty piece is scored as BOS + encode(piece) in windows of at most {@code context}
 * tokens, each window starting with BOS; every token after a BOS is scored;
 * perplexity = exp(total negative log-likelihood / scored tokens).
 */
public final class Perplexity {
    public static final String SEPARATOR = "<|endoftext|>";

    /** @param perplexity exp of the mean negative log-likelihood
     *  @param tokens     scored tokens
     *  @param kv         the KV cache after the longest window */
    public record Result(double perplexity, long tokens, double totalNll, KvStats kv) {
    }

    private Perplexity() {
    }

    public static Result evaluate(Backend backend, Tokenizer tokenizer, String text, int context, ProgressListener progress) {
        if (context < 2) {
            throw new IllegalArgumentException("context must be at least 2 tokens (BOS and one scored token), got " + context);
        }
        List<int[]> pieces = new ArrayList<>();
        long total = 0;
        for (String piece : text.split(java.util.regex.Pattern.quote(SEPARATOR))) {
            String stripped = piece.strip();
            if (!stripped.isEmpty()) {
                int[] body = tokenizer.encode(stripped, false, false);
                pieces.add(body);
                total += body.length;
            }
        }
        if (total == 0) {
            throw new IllegalArgumentException("the text has no tokens to score");
        }
        Session session = backend.openSession("perplexity", context);
        double nll = 0;
        long scored = 0;
        KvStats kv = new KvStats(0, 0);
        for (int[] body : pieces) {
            for (int start = 0; start < body.length; start += context - 1) {
                int n = Math.min(context - 1, body.length - start);
                int[] window = new int[n + 1];
                window[0] = tokenizer.bos();
                System.arraycopy(body, start, window, 1, n);
                float[] logits = backend.forwardAll(session, window, 0);
                int vocab = logits.length / window.length;
                for (int i = 0; i < n; i++) {
                    nll -= logSoftmax(logits, i * vocab, vocab, window[i + 1]);
                }
                scored += n;
                if (session.cache().denseBytes() >= kv.denseBytes()) {
                    kv = session.cache().stats();
                }
                progress.update(scored, total);
            }
        }
        return new Result(Math.exp(nll / scored), scored, nll, kv);
    }

    /** log p(target) under softmax(logits[offset, offset + n)), in double precision. */
    static double logSoftmax(float[] logits, int offset, int n, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        return logits[offset + target] - max - Math.log(sum);
    }
}
