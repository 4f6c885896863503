package dev.binmos.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * llama2.c's SentencePiece BPE: prefix a space, one symbol per code point (bytes tokens for code points not in the
 * vocabulary), then repeatedly merge the adjacent pair whose concatenation is the highest-scoring piece, leftmost
 * first on ties.
 *
 * <p>llama2.c rescans all pairs after every merge, O(n²) in the text length. Here the pairs wait in a heap ordered
 * by (score descending, position ascending) and the symbols form a linked list, O(n log n). Entries are not removed
 * when a merge changes their neighbourhood; a popped entry is used only if the pair now at its position still merges
 * with exactly its score. Every current pair is in the heap with its exact key, so the first usable entry is the
 * pair llama2.c would pick.
 */
final class BpeEncoder {
    private final Vocabulary vocab;

    BpeEncoder(Vocabulary vocab) {
        this.vocab = vocab;
    }

    /** Ids for non-empty {@code text}, without BOS/EOS. */
    int[] encode(String text) {
        int[] symbols = symbols(" " + text);
        return merge(symbols);
    }

    private int[] symbols(String text) {
        int[] ids = new int[text.length() * 4];
        int n = 0;
        byte[] utf8 = new byte[4];
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cp < 128 && vocab.asciiTokens[cp] != Vocabulary.NONE) {
                ids[n++] = vocab.asciiTokens[cp];
                continue;
            }
            int length = Utf8.encode(cp, utf8);
            int id = vocab.id(new String(utf8, 0, length, StandardCharsets.ISO_8859_1));
            if (id != Vocabulary.NONE) {
                ids[n++] = id;
                continue;
            }
            for (int b = 0; b < length; b++) {
                ids[n++] = byteToken(utf8[b] & 0xFF, cp);
            }
        }
        return Arrays.copyOf(ids, n);
    }

    private int byteToken(int value, int cp) {
        int id = vocab.byteTokens[value];
        if (id == Vocabulary.NONE) {
            id = vocab.unknown;
        }
        if (id == Vocabulary.NONE) {
            throw new IllegalArgumentException("cannot encode U+" + Integer.toHexString(cp).toUpperCase()
                    + ": not in the vocabulary, which has neither byte tokens nor an unknown token");
        }
        return id;
    }

    private int[] merge(int[] tokens) {
        int n = tokens.length;
        int[] next = new int[n];
        int[] prev = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        boolean[] gone = new boolean[n];
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            offer(heap, tokens, i, i + 1);
        }
        int remaining = n;
        while (!heap.isEmpty()) {
            long key = heap.pop();
            int left = (int) key;
            int right = next[left];
            if (gone[left] || right < 0) {
                continue;
            }
            int merged = mergedId(tokens, left, right);
            if (merged == Vocabulary.NONE || key(vocab.scores[merged], left) != key) {
                continue;
            }
            tokens[left] = merged;
            gone[right] = true;
            remaining--;
            next[left] = next[right];
            if (next[left] >= 0) {
                prev[next[left]] = left;
                offer(heap, tokens, left, next[left]);
            }
            if (prev[left] >= 0) {
                offer(heap, tokens, prev[left], left);
            }
        }
        int[] out = new int[remaining];
        for (int i = 0, k = 0; i >= 0; i = next[i]) {
            out[k++] = tokens[i];
        }
        return out;
    }

    private void offer(LongHeap heap, int[] tokens, int left, int right) {
        int merged = mergedId(tokens, left, right);
        if (merged != Vocabulary.NONE) {
            heap.push(key(vocab.scores[merged], left));
        }
    }

    private int mergedId(int[] tokens, int left, int right) {
        return vocab.id(vocab.keys[tokens[left]].concat(vocab.keys[tokens[right]]));
    }

    /** Orders by score descending, then position ascending, as one signed long. */
    private static long key(float score, int position) {
        int bits = Float.floatToIntBits(score);
        int ascending = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        return ((long) ~ascending << 32) | position;
    }
}
