package dev.binmos.engine.tokenizer;

import dev.binmos.engine.TestData;
import dev.binmos.engine.format.ModelFormatException;
import dev.binmos.engine.format.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizerLoadTest {
    @TempDir
    Path dir;

    @Test
    void llama2cFileHasFixedBosAndEos() {
        Tokenizer t = Tokenizer.fromLlama2c(TestData.shared("models/tok512.bin"), 512);
        assertEquals(512, t.vocabSize());
        assertEquals(1, t.bos());
        assertEquals(2, t.eos());
    }

    @Test
    void missingFile() {
        assertFormatError(dir.resolve("nope.bin"), 512, "does not exist");
    }

    @Test
    void truncatedFilesNameTheField() throws IOException {
        byte[] good = Files.readAllBytes(TestData.shared("models/tok512.bin"));
        for (int length : new int[] {0, 3, 4, 9, 13, 100, good.length - 1}) {
            Path cut = dir.resolve("cut" + length);
            Files.write(cut, Arrays.copyOf(good, length));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> Tokenizer.fromLlama2c(cut, 512));
            assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
        }
    }

    @Test
    void fewerTokensThanTheVocabulary() {
        assertFormatError(TestData.shared("models/tok512.bin"), 600, "after 512 of 600 tokens");
    }

    @Test
    void negativeOrAbsurdLengths() throws IOException {
        assertFormatError(file(27, -1), 3, "token 0 length");
        assertFormatError(file(27, Integer.MAX_VALUE), 3, "token 0 length");
        assertFormatError(file(-5), 3, "max_token_length");
        assertFormatError(file(Integer.MAX_VALUE), 3, "max_token_length");
    }

    @Test
    void vocabularyTooSmallForLlama2cIds() {
        assertThrows(IllegalArgumentException.class, () -> Tokenizer.fromLlama2c(TestData.shared("models/tok512.bin"), 2));
    }

    @Test
    void ggufRefusesOtherTokenizerModels() throws IOException {
        Map<String, Object> metadata = gguf();
        metadata.put("tokenizer.ggml.model", "gpt2");
        assertGgufError(metadata, "tokenizer.ggml.model");
    }

    @Test
    void ggufNamesMissingKeys() throws IOException {
        for (String key : List.of("tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores",
                "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id")) {
            Map<String, Object> metadata = gguf();
            metadata.remove(key);
            assertGgufError(metadata, key);
        }
    }

    @Test
    void ggufRejectsMalformedValues() throws IOException {
        assertGgufError(edit(m -> m.put("tokenizer.ggml.scores", List.of(0f))), "tokenizer.ggml.scores");
        assertGgufError(edit(m -> setElement(m, "tokenizer.ggml.token_type", 7, 9L)), "tokenizer.ggml.token_type[7]");
        assertGgufError(edit(m -> setElement(m, "tokenizer.ggml.tokens", 7, "<0xZZ>")), "<0xZZ>");
        assertGgufError(edit(m -> setElement(m, "tokenizer.ggml.tokens", 7, 12L)), "tokenizer.ggml.tokens[7]");
        assertGgufError(edit(m -> m.put("tokenizer.ggml.eos_token_id", 512L)), "eos");
        assertGgufError(edit(m -> m.put("tokenizer.ggml.bos_token_id", "one")), "tokenizer.ggml.bos_token_id");
    }

    @Test
    void ggufAcceptsAnyNumberType() throws IOException {
        Map<String, Object> metadata = edit(m -> {
            m.put("tokenizer.ggml.bos_token_id", 1);
            m.put("tokenizer.ggml.scores", ((List<?>) m.get("tokenizer.ggml.scores")).stream()
                    .map(s -> ((Number) s).doubleValue()).toList());
        });
        assertEquals(1, Tokenizer.fromGguf(metadata).bos());
    }

    private Map<String, Object> gguf() throws IOException {
        return new HashMap<>(GgufFile.open(TestData.shared("models/stories260K.gguf")).metadata());
    }

    private Map<String, Object> edit(Consumer<Map<String, Object>> change) throws IOException {
        Map<String, Object> metadata = gguf();
        change.accept(metadata);
        return metadata;
    }

    private static void setElement(Map<String, Object> metadata, String key, int index, Object value) {
        List<Object> list = new ArrayList<>((List<?>) metadata.get(key));
        list.set(index, value);
        metadata.put(key, list);
    }

    private static void assertGgufError(Map<String, Object> metadata, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.fromGguf(metadata));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    /** A llama2.c file holding max_token_length and, if given, the length field of token 0 (score 0). */
    private Path file(int maxTokenLength, int... firstLength) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(maxTokenLength);
        for (int length : firstLength) {
            buf.putFloat(0f).putInt(length);
        }
        Path file = Files.createTempFile(dir, "tok", ".bin");
        Files.write(file, Arrays.copyOf(buf.array(), buf.position()));
        return file;
    }

    private static void assertFormatError(Path file, int vocabSize, String expected) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Tokenizer.fromLlama2c(file, vocabSize));
        assertTrue(e.getMessage().contains(expected) && e.getMessage().contains(file.toString()), e.getMessage());
    }
}
