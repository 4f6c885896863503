package dev.binmos.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.binmos.engine.TestData;
import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Json;
import dev.binmos.engine.util.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Greedy generation reproduces the original llama2.c C implementation token for token, from the llama2.c
 * checkpoint (with its tokenizer file) and from llama.cpp's GGUF (tokenizer from its metadata).
 */
class ReferenceGreedyTest {

    static Stream<Arguments> cases() throws IOException {
        List<String> lines = Files.readAllLines(TestData.shared("reference/stories260K-greedy.jsonl"));
        assertFalse(lines.isEmpty());
        Stream.Builder<Arguments> b = Stream.builder();
        for (String model : List.of("models/stories260K.bin", "models/stories260K.gguf")) {
            for (String line : lines) {
                if (!line.isBlank()) {
                    Map<String, Object> ref = Json.parseObject(line);
                    b.add(Arguments.of(model.substring(model.indexOf('.') + 1), ref.get("prompt"), ref));
                }
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cases")
    void greedyMatchesReference(String format, String promptText, Map<String, Object> ref) {
        Path file = TestData.shared(format.equals("bin") ? "models/stories260K.bin" : "models/stories260K.gguf");
        Llama model = ModelLoader.load(file, null);
        int[] expectedPrompt = ints(ref.get("prompt_tokens"));
        int[] nextTokens = ints(ref.get("next_tokens"));
        int steps = ((Number) ref.get("steps")).intValue();

        int[] prompt = model.tokenizer().encode(promptText, true, false);
        assertArrayEquals(expectedPrompt, prompt, "prompt tokens");

        try (CpuBackend backend = new CpuBackend(model, new Parallel(2))) {
            Session session = backend.openSession("ref", steps);
            Completion c = new Generator(backend, model.tokenizer())
                    .generate(session, prompt, Generation.greedy(steps - prompt.length + 1), s -> { });
            // llama2.c prints the BOS that ends a story as the last token; the generator stops before it
            boolean stoppedAtBos = nextTokens[nextTokens.length - 1] == model.tokenizer().bos();
            int[] expected = java.util.Arrays.copyOfRange(nextTokens, prompt.length - 1, nextTokens.length - (stoppedAtBos ? 1 : 0));
            assertArrayEquals(expected, c.tokens(), "generated tokens");
            assertEquals(stoppedAtBos ? FinishReason.STOP : FinishReason.LENGTH, c.finishReason());
            assertEquals(ref.get("text"), promptText + c.text(), "text");
        }
    }

    private static int[] ints(Object list) {
        return ((List<?>) list).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
    }
}
