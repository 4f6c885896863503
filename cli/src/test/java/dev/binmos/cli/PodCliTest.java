package dev.binmos.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pod-calibrate, teacher-text and the KV cache flags as a user runs them. */
class PodCliTest {
    private static final String SHARED = System.getProperty("binmos.shared", "../shared");
    private static final String MODEL = SHARED + "/models/stories260K.bin";
    private static final String TEXT = SHARED + "/reference/tinystories_sample.txt";

    @TempDir
    Path dir;

    @Test
    void calibratedModelCarriesItsLayoutAndRunsWithIt() throws Exception {
        Path out = dir.resolve("pod.gguf");
        CliTest.Run r = CliTest.run("pod-calibrate", "--model", MODEL, "--out", out.toString(), "--samples", "2", "--length", "96",
                "--probes", "4", "--sinks", "4", "--window", "16", "--anchors", "3", "--threshold", "0");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("groups 0-2,3-4;0-2,3-4;0-2,3-4;0-2,3-4"), r.out());
        Llama model = ModelLoader.load(out, null);
        PodLayout layout = PodLayout.fromMetadata(model.source().metadata(), model.config()).orElseThrow();
        assertEquals("0-2,3-4;0-2,3-4;0-2,3-4;0-2,3-4", layout.groups().toString());
        assertEquals(4, layout.sinks());
        assertEquals(16, layout.window());

        Map<String, Object> pod = perplexity(out.toString());
        assertTrue(((String) pod.get("kv_policy")).startsWith("pod shared-keys, sinks 4, window 16"), pod.toString());
        assertTrue((Long) pod.get("kv_bytes") < (Long) pod.get("kv_dense_bytes"), pod.toString());
        Map<String, Object> dense = perplexity(out.toString(), "--kv-policy", "dense");
        assertEquals(3.5482, (Double) dense.get("perplexity"), 1e-4);
        assertEquals(dense.get("kv_bytes"), dense.get("kv_dense_bytes"));
        Map<String, Object> overridden = perplexity(out.toString(), "--pod-groups", "0,1,2,3,4", "--kv-type", "f16");
        assertEquals((Long) overridden.get("kv_dense_bytes"), overridden.get("kv_bytes"));
        assertEquals(3.5482, (Double) overridden.get("perplexity"), 2e-3, "group size 1 is dense attention (with f16 keys and values)");
    }

    private static Map<String, Object> perplexity(String model, String... flags) {
        String[] args = {"perplexity", "--model", model, "--text", TEXT, "--context", "512", "--json"};
        String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.Arrays.stream(flags)).toArray(String[]::new);
        CliTest.Run r = CliTest.run(all);
        assertEquals(0, r.exit(), r.err());
        return Json.parseObject(r.out().strip());
    }

    @Test
    void streamingAndH2oNeedTheirBudgets() {
        Map<String, Object> streaming = perplexity(MODEL, "--kv-policy", "streaming", "--pod-sinks", "4", "--pod-window", "32");
        assertTrue((Double) streaming.get("perplexity") > 3.5482, streaming.toString());
        CliTest.Run noHeavy = CliTest.run("perplexity", "--model", MODEL, "--text", TEXT, "--kv-policy", "h2o", "--pod-window", "8");
        assertEquals(1, noHeavy.exit());
        assertTrue(noHeavy.err().contains("--h2o-heavy"), noHeavy.err());
        CliTest.Run noGroups = CliTest.run("generate", "--model", MODEL, "--prompt", "Lily", "--kv-policy", "pod", "--pod-window", "8");
        assertEquals(1, noGroups.exit());
        assertTrue(noGroups.err().contains("--pod-groups"), noGroups.err());
        CliTest.Run h2o = CliTest.run("generate", "--model", MODEL, "--prompt", "Lily", "--max-tokens", "40", "--json",
                "--kv-policy", "h2o", "--h2o-heavy", "8", "--pod-window", "8");
        assertEquals(0, h2o.exit(), h2o.err());
        Map<String, Object> json = Json.parseObject(h2o.out().strip());
        assertTrue((Long) json.get("kv_bytes") < (Long) json.get("kv_dense_bytes"), json.toString());
    }

    @Test
    void teacherTextIsSeededStoriesForPerplexity() throws Exception {
        Path a = dir.resolve("a.txt");
        Path b = dir.resolve("b.txt");
        assertEquals(0, CliTest.run("teacher-text", "--model", MODEL, "--count", "3", "--length", "64", "--seed", "7", "--out", a.toString()).exit());
        assertEquals(0, CliTest.run("teacher-text", "--model", MODEL, "--count", "3", "--length", "64", "--seed", "7", "--out", b.toString()).exit());
        String text = Files.readString(a);
        assertEquals(text, Files.readString(b));
        assertTrue(text.contains("<|endoftext|>"), text);
    }
}
