package dev.binmos.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The binmos commands as a user runs them: output format, and one clear line for bad input. */
class CliTest {
    private static final String SHARED = System.getProperty("binmos.shared", "../shared");
    private static final String MODEL = SHARED + "/models/stories260K.bin";

    record Run(int exit, String out, String err) {
    }

    static Run run(String... args) {
        PrintStream stdout = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = Binmos.commandLine();
            cl.setErr(new PrintWriter(err, true));
            int exit = cl.execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(stdout);
        }
    }

    @Test
    void generateJsonMatchesTheReferenceGreedyContinuation() throws Exception {
        Run r = run("generate", "--model", MODEL, "--prompt", "Once upon a time", "--max-tokens", "20", "--json");
        assertEquals(0, r.exit(), r.err());
        Map<String, Object> json = Json.parseObject(r.out().strip());
        Map<String, Object> ref = Json.parseObject(Files.readAllLines(Path.of(SHARED, "reference/stories260K-greedy.jsonl")).getFirst());
        List<?> next = (List<?>) ref.get("next_tokens");
        int promptTokens = ((List<?>) ref.get("prompt_tokens")).size();
        assertEquals(next.subList(promptTokens - 1, promptTokens - 1 + 20), json.get("tokens"));
        assertEquals("length", json.get("finish_reason"));
        assertTrue(((String) ref.get("text")).startsWith("Once upon a time" + json.get("text")));
    }

    @Test
    void sameSeedSameSample() {
        String[] args = {"generate", "--model", MODEL, "--prompt", "Lily", "--max-tokens", "30", "--temperature", "1", "--top-p", "0.9", "--seed", "5", "--json"};
        Run a = run(args);
        Run b = run(args);
        assertEquals(0, a.exit(), a.err());
        assertEquals(a.out(), b.out());
    }

    @Test
    void stopStringEndsTheText() {
        Run r = run("generate", "--model", MODEL, "--prompt", "Once upon a time", "--stop", "Lily", "--json");
        assertEquals(0, r.exit(), r.err());
        Map<String, Object> json = Json.parseObject(r.out().strip());
        assertEquals(", there was a little girl named ", json.get("text"));
        assertEquals("stop", json.get("finish_reason"));
    }

    @Test
    void perplexityJson() {
        Run r = run("perplexity", "--model", MODEL, "--text", SHARED + "/reference/tinystories_sample.txt", "--context", "512", "--json");
        assertEquals(0, r.exit(), r.err());
        Map<String, Object> json = Json.parseObject(r.out().strip());
        double ppl = ((Number) json.get("perplexity")).doubleValue();
        assertTrue(ppl > 1 && ppl < 10, "perplexity " + ppl);
        assertTrue(((Number) json.get("tokens")).longValue() > 1000);
    }

    @Test
    void synthWritesALoadableDeterministicModel(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a.gguf");
        Path b = dir.resolve("b.gguf");
        for (Path p : List.of(a, b)) {
            Run r = run("synth", "--shape", "stories260k", "--layers", "2", "--format", "q8_0", "--tokenizer", SHARED + "/models/tok512.bin", "--seed", "9", "--out", p.toString());
            assertEquals(0, r.exit(), r.err());
        }
        assertEquals(-1, Files.mismatch(a, b), "same seed, same file");
        Llama model = ModelLoader.load(a, null);
        assertEquals(2, model.config().layers());
        assertEquals(64, model.config().dim());
        Run inspect = run("inspect", "--model", a.toString());
        assertTrue(inspect.out().contains("blk.1.ffn_down.weight"), inspect.out());
        assertTrue(inspect.out().contains("Q8_0"), inspect.out());
    }

    @Test
    void badInputGivesOneClearLine(@TempDir Path dir) throws Exception {
        Run missing = run("generate", "--model", dir.resolve("nope.bin").toString(), "--prompt", "x");
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("file not found") && missing.err().contains("nope.bin"), missing.err());

        Path garbage = Files.write(dir.resolve("garbage.gguf"), "GGUF\u0003\u0000\u0000\u0000".getBytes(StandardCharsets.ISO_8859_1));
        Run truncated = run("inspect", "--model", garbage.toString());
        assertEquals(1, truncated.exit());
        assertTrue(truncated.err().contains("garbage.gguf"), truncated.err());

        Run temperature = run("generate", "--model", MODEL, "--prompt", "x", "--temperature", "NaN");
        assertEquals(1, temperature.exit());
        assertTrue(temperature.err().toLowerCase().contains("temperature"), temperature.err());

        Run emptyPrompt = run("generate", "--model", MODEL, "--prompt", "");
        assertEquals(1, emptyPrompt.exit());
        assertTrue(emptyPrompt.err().contains("--prompt"), emptyPrompt.err());

        Run shape = run("synth", "--shape", "gpt9", "--format", "f16", "--tokenizer", SHARED + "/models/tok512.bin", "--out", dir.resolve("x.gguf").toString());
        assertEquals(1, shape.exit());
        assertTrue(shape.err().contains("gpt9"), shape.err());
        assertTrue(Files.notExists(dir.resolve("x.gguf")));

        Run unknownOption = run("generate", "--model", MODEL, "--prompt", "x", "--bogus");
        assertEquals(2, unknownOption.exit());
        assertTrue(unknownOption.err().contains("--bogus"), unknownOption.err());
    }
}
