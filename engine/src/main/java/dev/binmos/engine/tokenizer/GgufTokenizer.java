package dev.binmos.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The {@code tokenizer.ggml.*} keys of GGUF metadata (as Java objects) to a vocabulary and back. */
final class GgufTokenizer {
    static final String MODEL = "tokenizer.ggml.model";
    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String SCORES = "tokenizer.ggml.scores";
    static final String TYPES = "tokenizer.ggml.token_type";
    static final String BOS = "tokenizer.ggml.bos_token_id";
    static final String EOS = "tokenizer.ggml.eos_token_id";
    static final String UNKNOWN = "tokenizer.ggml.unknown_token_id";

    /** SentencePiece writes spaces as U+2581 LOWER ONE EIGHTH BLOCK. */
    private static final char SPACE_MARK = '\u2581';

    private GgufTokenizer() {
    }

    static Vocabulary read(Map<String, Object> metadata) {
        Object model = required(metadata, MODEL);
        if (!"llama".equals(model)) {
            throw new IllegalArgumentException(MODEL + " is '" + model
                    + "'; only 'llama' (SentencePiece BPE) tokenizers are supported");
        }
        List<?> tokens = list(metadata, TOKENS);
        List<?> scores = list(metadata, SCORES);
        List<?> types = list(metadata, TYPES);
        int n = tokens.size();
        if (scores.size() != n || types.size() != n) {
            throw new IllegalArgumentException(TOKENS + " has " + n + " entries but " + SCORES + " has " + scores.size()
                    + " and " + TYPES + " has " + types.size());
        }
        List<byte[]> pieces = new ArrayList<>(n);
        float[] scoreArray = new float[n];
        TokenType[] typeArray = new TokenType[n];
        for (int id = 0; id < n; id++) {
            if (!(tokens.get(id) instanceof String piece)) {
                throw new IllegalArgumentException(TOKENS + "[" + id + "] is not a string: " + tokens.get(id));
            }
            pieces.add(piece.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8));
            scoreArray[id] = number(SCORES + "[" + id + "]", scores.get(id)).floatValue();
            long type = number(TYPES + "[" + id + "]", types.get(id)).longValue();
            try {
                typeArray[id] = TokenType.fromGgufCode(type);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(TYPES + "[" + id + "]: " + e.getMessage(), e);
            }
        }
        // optional; some writers store -1 for "none"
        int unknown = metadata.containsKey(UNKNOWN) && number(UNKNOWN, metadata.get(UNKNOWN)).longValue() >= 0
                ? id(metadata, UNKNOWN) : Vocabulary.NONE;
        int bos = id(metadata, BOS);
        int eos = id(metadata, EOS);
        try {
            return new Vocabulary(pieces, scoreArray, typeArray, bos, eos, unknown);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("GGUF tokenizer metadata: " + e.getMessage(), e);
        }
    }

    /**
     * The inverse of {@link #read}: strings, {@code List<String>} tokens, {@code List<Float>} scores,
     * {@code List<Integer>} token types and {@code Integer} ids.
     */
    static Map<String, Object> write(Vocabulary vocab) {
        int n = vocab.size();
        List<String> tokens = new ArrayList<>(n);
        List<Float> scores = new ArrayList<>(n);
        List<Integer> types = new ArrayList<>(n);
        for (int id = 0; id < n; id++) {
            tokens.add(new String(vocab.keys[id].getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8).replace(' ', SPACE_MARK));
            scores.add(vocab.scores[id]);
            types.add(vocab.types[id].ordinal() + 1);
        }
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put(MODEL, "llama");
        metadata.put(TOKENS, tokens);
        metadata.put(SCORES, scores);
        metadata.put(TYPES, types);
        metadata.put(BOS, vocab.bos);
        metadata.put(EOS, vocab.eos);
        if (vocab.unknown != Vocabulary.NONE) {
            metadata.put(UNKNOWN, vocab.unknown);
        }
        return metadata;
    }

    private static Object required(Map<String, Object> metadata, String key) {
        Object value = metadata.get(key);
        if (value == null) {
            throw new IllegalArgumentException("GGUF metadata lacks " + key + ", needed for the tokenizer");
        }
        return value;
    }

    private static List<?> list(Map<String, Object> metadata, String key) {
        if (!(required(metadata, key) instanceof List<?> list)) {
            throw new IllegalArgumentException(key + " is not an array: " + metadata.get(key).getClass().getSimpleName());
        }
        return list;
    }

    private static int id(Map<String, Object> metadata, String key) {
        long value = number(key, required(metadata, key)).longValue();
        if (value < 0 || value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(key + " is " + value + ", not a token id");
        }
        return (int) value;
    }

    private static Number number(String what, Object value) {
        if (!(value instanceof Number number)) {
            throw new IllegalArgumentException(what + " is not a number: " + value);
        }
        return number;
    }
}
