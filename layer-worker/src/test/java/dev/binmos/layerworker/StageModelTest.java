package dev.binmos.layerworker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.backend.Chunk;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.format.gguf.GgufEdit;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.kv.PodGroups;
import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.kv.PodMode;
import dev.binmos.engine.model.Llama;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A stage's KV policy: the model's PoD layout by default, checked against the stage's layer range. */
class StageModelTest {
    private static final Path STORIES = Path.of(System.getProperty("binmos.shared", "../shared"), "models/stories260K.bin");
    private static final String SHA = "0".repeat(64);

    @TempDir
    static Path dir;
    private static Path pod;

    @BeforeAll
    static void writePodModel() throws Exception {
        Llama stories = ModelLoader.load(STORIES, null);
        PodGroups groups = PodGroups.parse("0-2,3-4", 5, 4);
        pod = dir.resolve("stories-pod.gguf");
        GgufEdit.withMetadata(stories, new PodLayout(4, 16, PodMode.SHARED_KEYS, groups).metadata(), pod);
    }

    private static WorkerConfig config(Path model, int from, Integer to, String policy) {
        return new WorkerConfig() {
            public Path model() { return model; }
            public Optional<Path> tokenizer() { return Optional.empty(); }
            public Optional<String> modelId() { return Optional.of("m"); }
            public Optional<String> modelSha256() { return Optional.of(SHA); }
            public int layerFrom() { return from; }
            public OptionalInt layerTo() { return to == null ? OptionalInt.empty() : OptionalInt.of(to); }
            public OptionalInt threads() { return OptionalInt.of(1); }
            public Optional<String> kvPolicy() { return Optional.ofNullable(policy); }
            public String kvType() { return "f32"; }
            public long kvCapacityBytes() { return 1 << 20; }
            public Optional<String> router() { return Optional.empty(); }
            public Optional<String> advertisedAddress() { return Optional.empty(); }
            public Optional<String> workerId() { return Optional.empty(); }
            public Duration drainTimeout() { return Duration.ofSeconds(1); }
            public int rememberedSteps() { return 8; }
            public long rememberedStepBytes() { return 1 << 20; }
        };
    }

    @Test
    void podByDefaultWhenTheModelHasALayout() {
        StageModel stage = new StageModel(config(pod, 3, null, null));
        KvPolicy.Pod policy = assertInstanceOf(KvPolicy.Pod.class, stage.policy());
        assertEquals("0-2,3-4", policy.layout().groups().toString());
        // what a session holds after 100 positions in layers [3, 5) is what the closed form says
        Session session = stage.backend().openSession("s", 512);
        float[] hidden = new float[100 * 64];
        stage.backend().embed(new int[100], hidden);
        stage.backend().forwardLayers(List.of(new Chunk(session, 0, 100)), hidden, 3, 5);
        assertEquals(session.cache().bytes(), stage.kvBytes(100));
        assertTrue(stage.kvBytes(100) < new StageModel(config(pod, 3, null, "dense")).kvBytes(100), "layer 4 keeps only proximal keys");
        stage.close();
    }

    @Test
    void aRangeThatStartsInsideAGroupIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new StageModel(config(pod, 1, 3, null)));
        assertTrue(e.getMessage().contains("start inside a PoD group") && e.getMessage().contains("--anchors 1"), e.getMessage());
        // as dense attention the same range is fine
        assertInstanceOf(KvPolicy.Dense.class, new StageModel(config(pod, 1, 3, "dense")).policy());
    }

    @Test
    void podNeedsALayout() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new StageModel(config(STORIES, 0, null, "pod")));
        assertTrue(e.getMessage().contains("pod-calibrate"), e.getMessage());
        assertInstanceOf(KvPolicy.Dense.class, new StageModel(config(STORIES, 0, null, null)).policy());
    }
}
