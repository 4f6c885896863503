package dev.binmos.engine.tokenizer;

import dev.binmos.engine.format.ModelFormatException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * A SentencePiece BPE tokenizer (Llama 1/2 family) that encodes and decodes exactly as llama2.c does.
 * Immutable and thread-safe; a {@link Decoder} is not.
 */
public final class Tokenizer {
    private final Vocabulary vocab;
    private final BpeEncoder encoder;

    private Tokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        this.encoder = new BpeEncoder(vocab);
    }

    /**
     * Reads a llama2.c tokenizer file; BOS is 1 and EOS 2, as llama2.c assumes.
     *
     * @param vocabSize tokens to read (the model's vocabulary size); the file must hold at least that many
     * @throws ModelFormatException         if the file is missing, truncated or malformed
     * @throws java.io.UncheckedIOException if it cannot be read
     */
    public static Tokenizer fromLlama2c(Path file, int vocabSize) {
        return new Tokenizer(Llama2cTokenizerReader.read(file, vocabSize));
    }

    /**
     * Builds the tokenizer stored in GGUF metadata ({@code tokenizer.ggml.*}; integers as any Number, arrays as List).
     *
     * @throws IllegalArgumentException naming the key, if a key is missing or malformed or the model is not "llama"
     */
    public static Tokenizer fromGguf(Map<String, Object> metadata) {
        return new Tokenizer(GgufTokenizer.read(metadata));
    }

    /**
     * This vocabulary as GGUF {@code tokenizer.ggml.*} metadata, the inverse of {@link #fromGguf}: strings,
     * {@code List<String>} tokens, {@code List<Float>} scores, {@code List<Integer>} token types, {@code Integer} ids.
     */
    public Map<String, Object> toGgufMetadata() {
        return GgufTokenizer.write(vocab);
    }

    public int vocabSize() {
        return vocab.size();
    }

    public int bos() {
        return vocab.bos;
    }

    public int eos() {
        return vocab.eos;
    }

    /** Token ids of {@code text}, with SentencePiece's dummy-prefix space when the text is not empty. */
    public int[] encode(String text, boolean addBos, boolean addEos) {
        Objects.requireNonNull(text, "text");
        int[] body = text.isEmpty() ? new int[0] : encoder.encode(text);
        int start = addBos ? 1 : 0;
        int[] out = new int[start + body.length + (addEos ? 1 : 0)];
        if (addBos) {
            out[0] = vocab.bos;
        }
        System.arraycopy(body, 0, out, start, body.length);
        if (addEos) {
            out[out.length - 1] = vocab.eos;
        }
        return out;
    }

    /**
     * Text of {@code tokens}: control tokens (BOS, EOS) are skipped, byte tokens become raw bytes, the space a piece
     * starts with is dropped right after BOS, and the bytes are decoded as UTF-8 as a whole.
     */
    public String decode(int[] tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int previous = -1;
        for (int token : tokens) {
            bytes.writeBytes(bytesOf(token, previous));
            previous = token;
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** A streaming decoder, for printing text as tokens are generated. */
    public Decoder decoder() {
        return new Decoder();
    }

    /** The vocabulary entry for display: spaces as ' ', byte tokens as "&lt;0xXX&gt;", BOS/EOS as stored. */
    public String piece(int token) {
        check(token);
        return new String(vocab.keys[token].getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }

    private byte[] bytesOf(int token, int previous) {
        check(token);
        if (vocab.types[token] == TokenType.CONTROL || token == vocab.bos || token == vocab.eos) {
            return new byte[0];
        }
        byte[] out = vocab.output[token];
        // SentencePiece's dummy prefix: the first word after BOS starts with a space that is not in the text
        if (previous == vocab.bos && vocab.types[token] != TokenType.BYTE && out.length > 0 && out[0] == ' ') {
            return Arrays.copyOfRange(out, 1, out.length);
        }
        return out;
    }

    private void check(int token) {
        if (token < 0 || token >= vocab.size()) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary of " + vocab.size());
        }
    }

    /**
     * Turns tokens into text one at a time. A character whose UTF-8 bytes arrive in several byte tokens is held back
     * until it is complete, so concatenating every {@link #push} and the final {@link #flush} equals {@link #decode}.
     */
    public final class Decoder {
        private byte[] pending = new byte[0];
        private int previous = -1;

        private Decoder() {
        }

        /** Adds a token and returns the text it completes (possibly empty). */
        public String push(int token) {
            byte[] added = bytesOf(token, previous);
            previous = token;
            byte[] bytes = Arrays.copyOf(pending, pending.length + added.length);
            System.arraycopy(added, 0, bytes, pending.length, added.length);
            int complete = bytes.length - Utf8.incompleteTail(bytes, bytes.length);
            pending = Arrays.copyOfRange(bytes, complete, bytes.length);
            return new String(bytes, 0, complete, StandardCharsets.UTF_8);
        }

        /** Returns what is still held back (an incomplete character, as U+FFFD) and empties the decoder. */
        public String flush() {
            String rest = new String(pending, StandardCharsets.UTF_8);
            pending = new byte[0];
            return rest;
        }
    }
}
