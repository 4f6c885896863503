package dev.binmos.engine.tokenizer;

import dev.binmos.engine.format.ModelFormatException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads llama2.c's tokenizer.bin: int32 max_token_length, then per token float32 score, int32 length and the piece
 * bytes, little-endian. Every length is checked against what is left so a damaged file fails with the field named
 * instead of an index or memory error.
 */
final class Llama2cTokenizerReader {
    /** Far above any real tokenizer (the 32k Llama 2 one is 434 KB); refuse before reading it into memory. */
    private static final long MAX_FILE_BYTES = 256L << 20;
    /** SentencePiece pieces are short; llama2.c sizes its merge buffer from this value. */
    private static final int MAX_PIECE_BYTES = 1 << 16;
    /** llama2.c's fixed ids. */
    private static final int BOS = 1;
    private static final int EOS = 2;

    private Llama2cTokenizerReader() {
    }

    static Vocabulary read(Path file, int vocabSize) {
        if (vocabSize <= EOS) {
            throw new IllegalArgumentException("vocab size must be at least 3 (llama2.c uses ids 1 and 2 for BOS/EOS), got " + vocabSize);
        }
        ByteBuffer in = ByteBuffer.wrap(bytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        if (in.remaining() < Integer.BYTES) {
            throw new ModelFormatException(file, "max_token_length", "file is only " + in.remaining() + " bytes long");
        }
        int maxLength = in.getInt();
        if (maxLength <= 0 || maxLength > MAX_PIECE_BYTES) {
            throw new ModelFormatException(file, "max_token_length", "is " + maxLength + ", expected 1.." + MAX_PIECE_BYTES);
        }
        List<byte[]> pieces = new ArrayList<>(vocabSize);
        float[] scores = new float[vocabSize];
        TokenType[] types = new TokenType[vocabSize];
        for (int id = 0; id < vocabSize; id++) {
            String field = "token " + id;
            if (in.remaining() < Float.BYTES + Integer.BYTES) {
                throw new ModelFormatException(file, field, "file ends after " + id + " of " + vocabSize + " tokens");
            }
            scores[id] = in.getFloat();
            int length = in.getInt();
            if (length < 0 || length > maxLength) {
                throw new ModelFormatException(file, field + " length", "is " + length + ", expected 0.." + maxLength + " (max_token_length)");
            }
            if (in.remaining() < length) {
                throw new ModelFormatException(file, field + " bytes", "needs " + length + " bytes, file has " + in.remaining() + " left");
            }
            byte[] piece = new byte[length];
            in.get(piece);
            pieces.add(piece);
            types[id] = type(id, piece);
        }
        int unknown = types[0] == TokenType.UNKNOWN ? 0 : Vocabulary.NONE;
        return new Vocabulary(pieces, scores, types, BOS, EOS, unknown);
    }

    /** The file has no types: infer them from llama2.c's conventions (ids 1/2 control, "&lt;0xXX&gt;" bytes). */
    private static TokenType type(int id, byte[] piece) {
        if (id == BOS || id == EOS) {
            return TokenType.CONTROL;
        }
        if (Vocabulary.byteValue(piece) >= 0) {
            return TokenType.BYTE;
        }
        return id == 0 && "<unk>".equals(new String(piece, StandardCharsets.ISO_8859_1))
                ? TokenType.UNKNOWN : TokenType.NORMAL;
    }

    private static byte[] bytes(Path file) {
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new ModelFormatException(file, "file", size + " bytes is too large for a tokenizer");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "file", "does not exist", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer " + file + ": " + e.getMessage(), e);
        }
    }
}
