package dev.binmos.engine.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.TestData;
import dev.binmos.engine.model.Llama;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Llama2cLoaderTest {
    private static final Path MODEL = TestData.shared("models/stories260K.bin");
    private static final Path TOKENIZER = TestData.shared("models/tok512.bin");

    @Test
    void readsTheHeaderAndFindsTheTokenizerBesideTheModel() {
        Llama model = Llama2cLoader.load(MODEL, null);
        assertEquals(64, model.config().dim());
        assertEquals(172, model.config().hiddenDim());
        assertEquals(5, model.config().layers());
        assertEquals(8, model.config().heads());
        assertEquals(4, model.config().kvHeads());
        assertEquals(512, model.config().vocabSize());
        assertEquals(512, model.config().contextLength());
        assertEquals(512, model.tokenizer().vocabSize());
    }

    @Test
    void everyTruncationIsAClearError(@TempDir Path dir) throws IOException {
        byte[] bytes = Files.readAllBytes(MODEL);
        for (int cut : new int[] {0, 3, 27, 28, 100, 131_100, bytes.length / 2, bytes.length - 1}) {
            Path file = Files.write(dir.resolve("cut" + cut + ".bin"), Arrays.copyOf(bytes, cut));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> Llama2cLoader.load(file, TOKENIZER), "cut at " + cut);
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        }
    }

    @Test
    void extraBytesAndAbsurdHeadersAreClearErrors(@TempDir Path dir) throws IOException {
        byte[] bytes = Files.readAllBytes(MODEL);
        Path longer = Files.write(dir.resolve("longer.bin"), Arrays.copyOf(bytes, bytes.length + 4));
        ModelFormatException size = assertThrows(ModelFormatException.class, () -> Llama2cLoader.load(longer, TOKENIZER));
        assertTrue(size.getMessage().contains("size"), size.getMessage());

        for (int[] header : new int[][] {
                {64, 172, 5, 8, 4, 512, -1},                               // negative context
                {64, 172, 5, 7, 4, 512, 512},                              // heads do not divide dim
                {1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30}, // absurd sizes
                {0x46554747, 3, 0, 0, 0, 0, 0}}) {                         // a GGUF header read as llama2.c
            ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            for (int v : header) {
                b.putInt(v);
            }
            Path file = Files.write(dir.resolve("header" + Arrays.hashCode(header) + ".bin"), b.array());
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> Llama2cLoader.load(file, TOKENIZER), Arrays.toString(header));
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        }
    }

    @Test
    void aMissingTokenizerSaysWhatToPass(@TempDir Path dir) throws IOException {
        Path alone = Files.copy(MODEL, dir.resolve("model.bin"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Llama2cLoader.load(alone, null));
        assertTrue(e.getMessage().contains("--tokenizer"), e.getMessage());
    }
}
