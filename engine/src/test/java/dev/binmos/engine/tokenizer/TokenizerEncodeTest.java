package dev.binmos.engine.tokenizer;

import dev.binmos.engine.TestData;
import dev.binmos.engine.format.gguf.GgufFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class TokenizerEncodeTest {
    private static Tokenizer tok512;
    private static Tokenizer gguf;
    private static Tokenizer llama32k;
    private static Llama2cReference reference512;
    private static Llama2cReference reference32k;

    @BeforeAll
    static void load() throws IOException {
        tok512 = Tokenizer.fromLlama2c(TestData.shared("models/tok512.bin"), 512);
        gguf = Tokenizer.fromGguf(GgufFile.open(TestData.shared("models/stories260K.gguf")).metadata());
        llama32k = Tokenizer.fromLlama2c(TestData.shared("models/tokenizer-llama2-32k.bin"), 32000);
        reference512 = new Llama2cReference(TestData.shared("models/tok512.bin"), 512);
        reference32k = new Llama2cReference(TestData.shared("models/tokenizer-llama2-32k.bin"), 32000);
    }

    record Prompt(String text, int[] tokens) {
    }

    /** The prompts and prompt_tokens of the llama2.c reference run (flat JSON, so a regex is enough). */
    static List<Prompt> referencePrompts() throws IOException {
        Pattern prompt = Pattern.compile("\"prompt\":\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
        Pattern tokens = Pattern.compile("\"prompt_tokens\":\\s*\\[([^]]*)]");
        List<Prompt> prompts = new ArrayList<>();
        for (String line : Files.readAllLines(TestData.shared("reference/stories260K-greedy.jsonl"))) {
            if (line.isBlank()) {
                continue;
            }
            Matcher p = prompt.matcher(line);
            Matcher t = tokens.matcher(line);
            if (!p.find() || !t.find()) {
                throw new IllegalStateException("unexpected reference line: " + line);
            }
            String text = p.group(1).replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
            int[] ids = Arrays.stream(t.group(1).split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
            prompts.add(new Prompt(text, ids));
        }
        assertFalse(prompts.isEmpty());
        return prompts;
    }

    @Test
    void reproducesLlama2cPromptTokens() throws IOException {
        for (Prompt p : referencePrompts()) {
            assertArrayEquals(p.tokens(), tok512.encode(p.text(), true, false), p.text());
        }
    }

    @Test
    void ggufVocabularyEncodesLikeTheLlama2cFile() throws IOException {
        assertEquals(512, gguf.vocabSize());
        assertEquals(1, gguf.bos());
        assertEquals(2, gguf.eos());
        for (int id = 0; id < 512; id++) {
            assertEquals(tok512.piece(id), gguf.piece(id), "piece " + id);
        }
        for (Prompt p : referencePrompts()) {
            assertArrayEquals(p.tokens(), gguf.encode(p.text(), true, false), p.text());
        }
        String story = sample();
        assertArrayEquals(tok512.encode(story, true, true), gguf.encode(story, true, true));
    }

    @Test
    void bosAndEosAreAddedOnRequest() {
        int[] body = tok512.encode("Once upon a time", false, false);
        assertArrayEquals(new int[] {403, 407, 261, 378}, body);
        int[] both = tok512.encode("Once upon a time", true, true);
        assertEquals(1, both[0]);
        assertEquals(2, both[both.length - 1]);
        assertArrayEquals(body, Arrays.copyOfRange(both, 1, both.length - 1));
        assertArrayEquals(new int[0], tok512.encode("", false, false));
        assertArrayEquals(new int[] {1, 2}, tok512.encode("", true, true));
    }

    @Test
    void llama2VocabularyKnownIds() {
        assertEquals(32000, llama32k.vocabSize());
        assertArrayEquals(new int[] {1, 15043, 3186}, llama32k.encode("Hello world", true, false));
        // not in the vocabulary: dummy-prefix "▁" then the four UTF-8 bytes as byte tokens (byte + 3)
        assertArrayEquals(new int[] {29871, 0xF0 + 3, 0x9F + 3, 0x98 + 3, 0x80 + 3}, llama32k.encode("😀", false, false));
    }

    @Test
    void matchesTheNaiveLlama2cAlgorithmOnNonAsciiText() {
        for (String s : List.of("café au lait", "日本語のテキスト", "emoji 😀👍🏽 mixed", "naïve résumé — “quotes”",
                "tabs\tand\nnewlines\n\n", "  leading and trailing spaces  ", "Ünïcödé ñ ß ø å", "<0x0A> <s> </s> <unk>")) {
            assertArrayEquals(reference32k.encode(s), llama32k.encode(s, false, false), s);
            assertArrayEquals(reference512.encode(s), tok512.encode(s, false, false), s);
        }
    }

    @Test
    void matchesTheNaiveLlama2cAlgorithmOnStoriesAndRandomText() throws IOException {
        for (String story : sample().split(Pattern.quote("<|endoftext|>"))) {
            assertArrayEquals(reference32k.encode(story), llama32k.encode(story, false, false));
            assertArrayEquals(reference512.encode(story), tok512.encode(story, false, false));
        }
        // a small alphabet makes long runs of equal-score candidate pairs, which exercises the tie rule
        Random random = new Random(42);
        String alphabet = "aaabeehnt  \né日";
        for (int round = 0; round < 300; round++) {
            StringBuilder sb = new StringBuilder();
            int length = random.nextInt(60);
            for (int i = 0; i < length; i++) {
                sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String s = sb.toString();
            assertArrayEquals(reference32k.encode(s), llama32k.encode(s, false, false), s);
            assertArrayEquals(reference512.encode(s), tok512.encode(s, false, false), s);
        }
    }

    @Test
    void roundTripsThroughDecode() {
        for (String s : List.of("Hello world", "café", "日本", "emoji 😀 and 👍🏽", " leading space", "line\nbreaks\r\n",
                "trailing ", "x")) {
            assertEquals(s, llama32k.decode(llama32k.encode(s, true, false)), s);
            assertEquals(s, tok512.decode(tok512.encode(s, true, true)), s);
        }
    }

    @Test
    void longTextsEncodeInNearLinearTime() throws IOException {
        String story = sample();
        String big = story.repeat(1_000_000 / story.length());
        int[] tokens = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> llama32k.encode(big, true, false));
        assertEquals(big, llama32k.decode(tokens));
    }

    static String sample() throws IOException {
        return Files.readString(TestData.shared("reference/tinystories_sample.txt"));
    }
}
