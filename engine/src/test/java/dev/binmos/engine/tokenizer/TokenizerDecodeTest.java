package dev.binmos.engine.tokenizer;

import dev.binmos.engine.TestData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizerDecodeTest {
    /** Llama 2 ids: ▁Hello, ▁world, and the UTF-8 bytes of 😀 (F0 9F 98 80) as byte tokens. */
    private static final int HELLO = 15043;
    private static final int WORLD = 3186;
    private static final int[] EMOJI = {0xF0 + 3, 0x9F + 3, 0x98 + 3, 0x80 + 3};

    private static Tokenizer tok512;
    private static Tokenizer llama32k;

    @BeforeAll
    static void load() {
        tok512 = Tokenizer.fromLlama2c(TestData.shared("models/tok512.bin"), 512);
        llama32k = Tokenizer.fromLlama2c(TestData.shared("models/tokenizer-llama2-32k.bin"), 32000);
    }

    @Test
    void stripsTheDummyPrefixOnlyAfterBos() {
        assertEquals("Hello world", llama32k.decode(new int[] {1, HELLO, WORLD}));
        assertEquals(" Hello world", llama32k.decode(new int[] {HELLO, WORLD}));
        assertEquals("Hello world", llama32k.decode(new int[] {1, HELLO, WORLD, 2}));
    }

    @Test
    void skipsControlTokensAndTurnsByteTokensIntoBytes() {
        assertEquals("a\nb", llama32k.decode(llama32k.encode("a\nb", true, true)));
        assertEquals("\n", llama32k.decode(new int[] {0x0A + 3}));
        assertEquals("", llama32k.decode(new int[] {1, 2, 1}));
        assertEquals("😀", llama32k.decode(EMOJI));
    }

    @Test
    void streamingHoldsBackIncompleteCharacters() {
        Tokenizer.Decoder decoder = llama32k.decoder();
        assertEquals("", decoder.push(1));
        assertEquals("Hello", decoder.push(HELLO));
        assertEquals("", decoder.push(EMOJI[0]));
        assertEquals("", decoder.push(EMOJI[1]));
        assertEquals("", decoder.push(EMOJI[2]));
        assertEquals("😀", decoder.push(EMOJI[3]));
        assertEquals(" world", decoder.push(WORLD));
        assertEquals("", decoder.flush());
    }

    @Test
    void streamingConcatenationEqualsDecode() throws IOException {
        String text = TokenizerEncodeTest.sample() + " 日本 😀👍🏽 café";
        for (Tokenizer tokenizer : new Tokenizer[] {tok512, llama32k}) {
            int[] tokens = tokenizer.encode(text, true, true);
            Tokenizer.Decoder decoder = tokenizer.decoder();
            StringBuilder streamed = new StringBuilder();
            for (int token : tokens) {
                streamed.append(decoder.push(token));
            }
            streamed.append(decoder.flush());
            assertEquals(tokenizer.decode(tokens), streamed.toString());
            assertEquals(text, streamed.toString());
        }
    }

    @Test
    void flushReleasesAnIncompleteCharacterAsReplacement() {
        Tokenizer.Decoder decoder = llama32k.decoder();
        assertEquals("", decoder.push(EMOJI[0]));
        assertEquals("", decoder.push(EMOJI[1]));
        assertEquals("\uFFFD", decoder.flush());
        assertEquals("", decoder.flush());
        assertEquals("\uFFFD", llama32k.decode(new int[] {EMOJI[0], EMOJI[1]}));
    }

    @Test
    void piecesForDisplay() {
        assertEquals(" t", tok512.piece(259));
        assertEquals("<0x0A>", tok512.piece(13));
        assertEquals("<unk>", llama32k.piece(0));
        assertEquals(" Hello", llama32k.piece(HELLO));
    }

    @Test
    void rejectsTokenIdsOutsideTheVocabulary() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok512.piece(512));
        assertTrue(e.getMessage().contains("512") && e.getMessage().contains("vocabulary of 512"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok512.piece(-1));
        assertThrows(IllegalArgumentException.class, () -> tok512.decode(new int[] {1, 600}));
        assertThrows(IllegalArgumentException.class, () -> tok512.decoder().push(-5));
    }
}
