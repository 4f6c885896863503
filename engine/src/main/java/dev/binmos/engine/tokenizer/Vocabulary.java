package dev.binmos.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The pieces of a SentencePiece vocabulary in the byte form llama2.c uses (space, not U+2581; byte tokens spelled
 * "&lt;0xXX&gt;"), indexed for encoding and decoding.
 */
final class Vocabulary {
    /** Marks a missing token id. */
    static final int NONE = -1;

    /**
     * Raw piece bytes, one ISO-8859-1 char per byte: concatenating two keys is concatenating two byte strings, which
     * is what the merge lookup needs, and compact strings keep this at one byte per byte.
     */
    final String[] keys;
    /** What each token contributes to decoded text: the piece, or the single raw byte of a byte token. */
    final byte[][] output;
    final float[] scores;
    final TokenType[] types;
    final int bos;
    final int eos;
    final int unknown;
    /** Mergeable piece → id. */
    final Map<String, Integer> ids;
    /** Byte value → id of its "&lt;0xXX&gt;" token, or {@link #NONE}. */
    final int[] byteTokens = new int[256];
    /** Code points below 128 → id, precomputed because almost all text is ASCII. */
    final int[] asciiTokens = new int[128];

    /** @throws IllegalArgumentException if a byte token is not spelled "&lt;0xXX&gt;" or bos/eos/unknown is out of range */
    Vocabulary(List<byte[]> pieces, float[] scores, TokenType[] types, int bos, int eos, int unknown) {
        int n = pieces.size();
        if (n == 0 || scores.length != n || types.length != n) {
            throw new IllegalArgumentException("vocabulary needs the same positive number of pieces (" + n
                    + "), scores (" + scores.length + ") and types (" + types.length + ")");
        }
        checkId("bos", bos, n, false);
        checkId("eos", eos, n, false);
        checkId("unknown", unknown, n, true);
        this.keys = new String[n];
        this.output = new byte[n][];
        this.scores = scores.clone();
        this.types = types.clone();
        this.bos = bos;
        this.eos = eos;
        this.unknown = unknown;
        this.ids = HashMap.newHashMap(n);
        Arrays.fill(byteTokens, NONE);
        for (int id = 0; id < n; id++) {
            byte[] piece = pieces.get(id);
            keys[id] = new String(piece, StandardCharsets.ISO_8859_1);
            if (types[id] == TokenType.BYTE) {
                int value = byteValue(piece);
                if (value < 0) {
                    throw new IllegalArgumentException("byte token " + id + " is not spelled <0xXX>: "
                            + new String(piece, StandardCharsets.UTF_8));
                }
                output[id] = new byte[] {(byte) value};
                if (byteTokens[value] == NONE) {
                    byteTokens[value] = id;
                }
            } else {
                output[id] = piece.clone();
                if (types[id].mergeable()) {
                    ids.putIfAbsent(keys[id], id);
                }
            }
        }
        for (int c = 0; c < 128; c++) {
            asciiTokens[c] = ids.getOrDefault(String.valueOf((char) c), NONE);
        }
    }

    int size() {
        return keys.length;
    }

    int id(String key) {
        return ids.getOrDefault(key, NONE);
    }

    /** The byte a "&lt;0xXX&gt;" piece stands for (either hex case, as llama2.c's sscanf accepts), or -1. */
    static int byteValue(byte[] piece) {
        if (piece.length != 6 || piece[0] != '<' || piece[1] != '0' || piece[2] != 'x' || piece[5] != '>') {
            return -1;
        }
        int hi = Character.digit(piece[3], 16);
        int lo = Character.digit(piece[4], 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    private static void checkId(String what, int id, int size, boolean optional) {
        if (optional && id == NONE) {
            return;
        }
        if (id < 0 || id >= size) {
            throw new IllegalArgumentException(what + " token id " + id + " is outside the vocabulary of " + size);
        }
    }
}
