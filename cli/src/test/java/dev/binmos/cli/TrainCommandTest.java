package dev.binmos.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code binmos train} as a user runs it: a tiny run, its checkpoint and resume, and the initial student. */
class TrainCommandTest {
    private static final String MODEL = System.getProperty("binmos.shared", "../shared") + "/models/stories260K.bin";

    @Test
    void trainsWritesAModelAndResumes(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("student.gguf");
        String[] args = {"train", "--model", MODEL, "--out", out.toString(), "--experts", "2", "--steps", "4", "--batch", "2",
                "--samples", "6", "--seq-len", "24", "--cache-dir", dir.resolve("cache").toString(), "--checkpoint-every", "2",
                "--threads", "2", "--json"};
        CliTest.Run r = CliTest.run(args);
        assertEquals(0, r.exit(), r.err());
        Map<String, Object> json = Json.parseObject(r.out().strip());
        assertEquals(4L, json.get("steps"));
        assertTrue(((Number) json.get("linear_bits_per_weight")).doubleValue() > 1, r.out());
        Llama student = ModelLoader.load(out, null);
        assertEquals("2", String.valueOf(student.source().metadata().get("binmos.experts")));
        assertTrue(Files.isRegularFile(dir.resolve("student.gguf.ckpt")));
        assertEquals(1, Files.list(dir.resolve("cache")).count(), "the sampled sequences are cached");

        byte[] first = Files.readAllBytes(out);
        CliTest.Run resumed = CliTest.run(append(args, "--resume"));
        assertEquals(0, resumed.exit(), resumed.err());
        assertEquals(4L, Json.parseObject(resumed.out().strip()).get("steps"));
        assertArrayEquals(first, Files.readAllBytes(out), "resuming a finished run writes the same student");

        CliTest.Run changed = CliTest.run(append(append(args, "--resume"), "--lr", "0.5"));
        assertEquals(1, changed.exit());
        assertTrue(changed.err().contains("same options"), changed.err());
    }

    @Test
    void zeroStepsWritesWhatBinarizeWrites(@TempDir Path dir) throws Exception {
        Path trained = dir.resolve("init.gguf");
        Path binarized = dir.resolve("binarized.gguf");
        assertEquals(0, CliTest.run("train", "--model", MODEL, "--out", trained.toString(), "--experts", "2", "--steps", "0").exit());
        assertEquals(0, CliTest.run("binarize", "--from", MODEL, "--out", binarized.toString(), "--experts", "2").exit());
        assertArrayEquals(Files.readAllBytes(binarized), Files.readAllBytes(trained));
    }

    @Test
    void podFlagsTrainWithPodAndMarkTheModel(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("pod.gguf");
        CliTest.Run r = CliTest.run("train", "--model", MODEL, "--out", out.toString(), "--experts", "1", "--steps", "2", "--batch", "1",
                "--samples", "2", "--seq-len", "40", "--cache-dir", dir.resolve("cache").toString(),
                "--pod-groups", "0,1-2,3-4", "--pod-sinks", "4", "--pod-window", "8");
        assertEquals(0, r.exit(), r.err());
        assertTrue(KvPolicy.of(ModelLoader.load(out, null)) instanceof KvPolicy.Pod, "served with PoD by default");
        CliTest.Run bad = CliTest.run("train", "--model", MODEL, "--out", out.toString(), "--steps", "0", "--pod-window", "8");
        assertEquals(1, bad.exit());
        assertTrue(bad.err().contains("--pod-groups"), bad.err());
    }

    private static String[] append(String[] args, String... more) {
        String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return all;
    }
}
