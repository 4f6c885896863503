package dev.binmos.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.cli.CliTest.Run;
import dev.binmos.engine.binarymos.BinaryMosLinear;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** binarize and synth --format binarymos, and the other commands on their output. */
class BinarizeCliTest {
    private static final String SHARED = System.getProperty("binmos.shared", "../shared");
    private static final String MODEL = SHARED + "/models/stories260K.bin";
    private static final String TOKENIZER = SHARED + "/models/tok512.bin";

    @Test
    void binarizedStoriesRunsInEveryCommand(@TempDir Path dir) {
        String file = dir.resolve("e4.gguf").toString();
        Run b = CliTest.run("binarize", "--from", MODEL, "--out", file);
        assertEquals(0, b.exit(), b.err());
        Matcher m = Pattern.compile("4 experts, linears (\\d+\\.\\d+) bits per weight \\(signs (\\d+\\.\\d+) \\+ .* file .*\\d+ B\\)").matcher(b.out());
        assertTrue(m.find(), b.out());
        assertTrue(Double.parseDouble(m.group(2)) > 1 && Double.parseDouble(m.group(1)) > Double.parseDouble(m.group(2)), b.out());
        assertFalse(Files.exists(dir.resolve("e4.gguf.partial")));

        Run g = CliTest.run("generate", "--model", file, "--prompt", "Once upon a time", "--max-tokens", "8", "--json");
        assertEquals(0, g.exit(), g.err());
        assertEquals(8, ((List<?>) Json.parseObject(g.out().strip()).get("tokens")).size());

        Run p = CliTest.run("perplexity", "--model", file, "--text", SHARED + "/reference/tinystories_sample.txt", "--context", "128", "--json");
        assertEquals(0, p.exit(), p.err());
        Map<String, Object> json = Json.parseObject(p.out().strip());
        assertTrue(((Number) json.get("perplexity")).doubleValue() > 1, p.out());

        Run i = CliTest.run("inspect", "--model", file);
        assertEquals(0, i.exit(), i.err());
        assertTrue(i.out().contains("binarymos    4 experts, 226560 linear weights at " + m.group(1) + " bits per weight"), i.out());
        assertTrue(Pattern.compile("blk\\.0\\.ffn_down\\.signs +I8 +64 x 24 +1.50 KiB").matcher(i.out()).find(), i.out());
    }

    @Test
    void synthBinaryMosIsLoadableAndDeterministic(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a.gguf");
        Path b = dir.resolve("b.gguf");
        Path c = dir.resolve("c.gguf");
        for (Path p : new Path[] {a, b}) {
            Run r = CliTest.run("synth", "--shape", "stories260k", "--layers", "2", "--format", "binarymos", "--experts", "2",
                    "--tokenizer", TOKENIZER, "--seed", "3", "--out", p.toString());
            assertEquals(0, r.exit(), r.err());
        }
        Run r = CliTest.run("synth", "--shape", "stories260k", "--layers", "2", "--format", "binarymos", "--experts", "2",
                "--tokenizer", TOKENIZER, "--seed", "4", "--out", c.toString());
        assertEquals(0, r.exit(), r.err());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)));
        Llama model = ModelLoader.load(a, null);
        BinaryMosLinear down = assertInstanceOf(BinaryMosLinear.class, model.weights().layers()[1].down());
        assertEquals(2, down.experts());
        assertEquals(172, down.inFeatures());
        Run g = CliTest.run("generate", "--model", a.toString(), "--prompt", "Once", "--max-tokens", "4", "--json");
        assertEquals(0, g.exit(), g.err());
    }

    @Test
    void expertsBelongToFromOnly(@TempDir Path dir) {
        Run r = CliTest.run("binarize", "--from", MODEL, "--experts", "0", "--out", dir.resolve("x.gguf").toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("experts must be from 1"), r.err());
        assertFalse(Files.exists(dir.resolve("x.gguf.partial")));
    }
}
