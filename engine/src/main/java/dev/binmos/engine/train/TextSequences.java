package dev.binmos.engine.train;

import dev.binmos.engine.generate.Perplexity;
import dev.binmos.engine.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * Training sequences from a user's text: pieces split on {@value Perplexity#SEPARATOR} as perplexity
 * splits them, each as BOS + its tokens, run together and cut into sequences of one length (the
 * remainder that fills no whole sequence is dropped).
 */
public final class TextSequences {
    private TextSequences() {
    }

    public static int[][] of(Tokenizer tokenizer, String text, int length) {
        if (length < 2) {
            throw new IllegalArgumentException("sequences need at least 2 tokens, got " + length);
        }
        int[] stream = new int[0];
        int size = 0;
        for (String piece : text.split(java.util.regex.Pattern.quote(Perplexity.SEPARATOR))) {
            String stripped = piece.strip();
            if (stripped.isEmpty()) {
                continue;
            }
            int[] tokens = tokenizer.encode(stripped, true, false);
            if (size + tokens.length > stream.length) {
                stream = Arrays.copyOf(stream, Math.max(2 * stream.length, size + tokens.length));
            }
            System.arraycopy(tokens, 0, stream, size, tokens.length);
            size += tokens.length;
        }
        int[][] sequences = new int[size / length][];
        for (int i = 0; i < sequences.length; i++) {
            sequences[i] = Arrays.copyOfRange(stream, i * length, (i + 1) * length);
        }
        return sequences;
    }
}
