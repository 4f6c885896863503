package dev.binmos.engine.format.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.binmos.engine.TestData;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.format.Stories260K;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.kv.PodGroups;
import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.kv.PodMode;
import dev.binmos.engine.model.Llama;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufEditTest {
    private static final PodLayout LAYOUT = new PodLayout(4, 64, PodMode.SHARED_SCORES, PodGroups.parse("0-1,2-4;0-4;0,1,2,3,4;0,1-4", 5, 4));

    @TempDir
    Path dir;

    @Test
    void copiesAGgufFileByteForByteWithMetadataAddedAndReplaced() throws IOException {
        Path source = TestData.shared("models/stories260K.gguf");
        Llama original = ModelLoader.load(source, null);
        Map<String, Object> extra = new LinkedHashMap<>(LAYOUT.metadata());
        extra.put("general.name", "renamed");
        Path once = dir.resolve("once.gguf");
        GgufEdit.withMetadata(original, extra, once);
        // a second edit replaces the pod.* keys instead of adding them twice
        Path twice = dir.resolve("twice.gguf");
        GgufEdit.withMetadata(ModelLoader.load(once, null), Map.of(PodLayout.WINDOW, 32L), twice);

        GgufFile before = GgufFile.open(source);
        GgufFile after = GgufFile.open(twice);
        assertEquals(before.metadata().size() + 4, after.metadata().size());
        assertEquals("renamed", after.metadata().get("general.name"));
        assertEquals(32L, after.metadata().get(PodLayout.WINDOW));
        before.metadata().forEach((key, value) -> {
            if (!key.equals("general.name")) {
                assertEquals(value, after.metadata().get(key), key);
            }
        });
        assertEquals(before.tensors().size(), after.tensors().size());
        for (GgufTensorInfo info : before.tensors()) {
            GgufTensorInfo copied = after.tensorInfo(info.name());
            assertEquals(info.type(), copied.type());
            assertArrayEquals(before.bytes(info).toArray(ValueLayout.JAVA_BYTE), after.bytes(copied).toArray(ValueLayout.JAVA_BYTE), info.name());
        }
        Llama edited = ModelLoader.load(twice, null);
        assertEquals(new KvPolicy.Pod(new PodLayout(4, 32, LAYOUT.mode(), LAYOUT.groups()), dev.binmos.engine.kv.KvPrecision.F32), KvPolicy.of(edited));
        assertArrayEquals(Stories260K.logits(original), Stories260K.logits(edited), 0f);
    }

    @Test
    void exportsALlama2cCheckpointWithTheSameWeights() throws IOException {
        Llama original = Stories260K.llama2c();
        Path out = dir.resolve("exported.gguf");
        GgufEdit.withMetadata(original, LAYOUT.metadata(), out);
        Llama exported = ModelLoader.load(out, null);
        assertEquals("gguf", exported.source().format());
        assertEquals(original.config(), exported.config());
        assertEquals(LAYOUT, PodLayout.fromMetadata(exported.source().metadata(), exported.config()).orElseThrow());
        assertFalse(exported.source().tensors().stream().anyMatch(t -> t.name().equals("output.weight")), "the classifier stays shared");
        // the GGUF loader reads the same weights; its kernels may round differently (see GgufModelTest)
        Stories260K.assertLogitsClose(Stories260K.logits(original), Stories260K.logits(exported), "exported llama2.c");
    }
}
