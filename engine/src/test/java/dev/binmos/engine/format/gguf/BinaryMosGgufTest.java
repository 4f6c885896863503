package dev.binmos.engine.format.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.binarymos.Binarizer;
import dev.binmos.engine.format.ModelFormatException;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.format.Stories260K;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.tensor.GgmlType;
import dev.binmos.engine.util.ProgressListener;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loader's checks of BinaryMoS files: each broken variant of a valid file names its file and field. */
class BinaryMosGgufTest {
    @TempDir
    Path dir;

    private Llama source;
    private GgufFile valid;

    @BeforeEach
    void binarize() throws IOException {
        source = Stories260K.llama2c();
        Path file = dir.resolve("valid.gguf");
        Binarizer.write(source, 4, 1, "valid", GgmlType.F32, file, ProgressListener.NONE);
        valid = GgufFile.open(file);
    }

    /** A copy of the valid file with {@code binmos.*} keys and tensors as the edits leave them. */
    private final class Variant {
        final Map<String, Object> keys = new LinkedHashMap<>();
        final Map<String, GgufTensorInfo> tensors = new LinkedHashMap<>();

        Variant() {
            valid.metadata().forEach((key, value) -> {
                if (key.startsWith("binmos.")) {
                    keys.put(key, value);
                }
            });
            valid.tensors().forEach(t -> tensors.put(t.name(), t));
        }

        Path write(String name) throws IOException {
            GgufWriter w = GgufModel.writer(source.config(), source.tokenizer(), name);
            keys.forEach((key, value) -> {
                if (value instanceof String s) {
                    w.putString(key, s);
                } else {
                    w.putUInt32(key, (Long) value);
                }
            });
            tensors.forEach((tensorName, t) -> {
                MemorySegment data = valid.tensorInfo(tensorName) == t ? valid.bytes(t) : MemorySegment.ofArray(new byte[(int) t.byteSize()]);
                long rowBytes = t.type().byteSize(t.dims()[0]);
                w.addRawTensor(tensorName, t.type(), t.shape(), (row, bytes) ->
                        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, row * rowBytes, bytes, 0, bytes.length));
            });
            Path file = dir.resolve(name);
            w.write(file);
            return file;
        }
    }

    private String loadError(Consumer<Variant> edit) throws IOException {
        Variant v = new Variant();
        edit.accept(v);
        Path file = v.write("variant.gguf");
        String message = assertThrows(ModelFormatException.class, () -> ModelLoader.load(file, null)).getMessage();
        assertTrue(message.startsWith(file.toString()), message);
        return message;
    }

    @Test
    void anUneditedCopyLoadsAndComputesAsTheOriginal() throws IOException {
        Path copy = new Variant().write("copy.gguf");
        Stories260K.assertLogitsClose(Stories260K.logits(ModelLoader.load(valid.path(), null)),
                Stories260K.logits(ModelLoader.load(copy, null)), "copy");
    }

    @Test
    void wrongExpertCount() throws IOException {
        String message = loadError(v -> v.keys.put(BinaryMosGguf.EXPERTS_KEY, 3L));
        assertTrue(message.contains("tensor blk.0.attn_q.router shape: expected [3, 64] (binmos.experts = 3), found [4, 64]"), message);
    }

    @Test
    void signsOfWrongSize() throws IOException {
        String message = loadError(v -> v.tensors.put("blk.1.attn_k.signs",
                new GgufTensorInfo("blk.1.attn_k.signs", new long[] {16, 32}, GgmlType.I8, 0)));
        assertTrue(message.contains("tensor blk.1.attn_k.signs shape: expected [32, 8]"), message);
    }

    @Test
    void signsOfAFloatType() throws IOException {
        String message = loadError(v -> v.tensors.put("blk.0.attn_v.signs",
                new GgufTensorInfo("blk.0.attn_v.signs", new long[] {8, 32}, GgmlType.F16, 0)));
        assertTrue(message.contains("tensor blk.0.attn_v.signs type: expected I8"), message);
    }

    @Test
    void missingSOut() throws IOException {
        String message = loadError(v -> v.tensors.remove("blk.2.ffn_up.s_out"));
        assertTrue(message.contains("tensor blk.2.ffn_up.s_out: missing"), message);
    }

    @Test
    void unknownBitOrder() throws IOException {
        String message = loadError(v -> v.keys.put(BinaryMosGguf.BIT_ORDER_KEY, "msb0-minus1"));
        assertTrue(message.contains("metadata 'binmos.bit_order': unknown bit order msb0-minus1"), message);
    }

    @Test
    void unsupportedVersionAndPaddingAndMissingExperts() throws IOException {
        assertTrue(loadError(v -> v.keys.put(BinaryMosGguf.FORMAT_VERSION_KEY, 2L)).contains("metadata 'binmos.format_version'"));
        assertTrue(loadError(v -> v.keys.put(BinaryMosGguf.ROW_PADDING_KEY, 32L)).contains("metadata 'binmos.row_padding'"));
        assertTrue(loadError(v -> v.keys.remove(BinaryMosGguf.EXPERTS_KEY)).contains("metadata 'binmos.experts': missing"));
    }

    @Test
    void linearSizeCountsSignsAndScales() {
        BinaryMosGguf.LinearSize size = BinaryMosGguf.linearSize(ModelLoader.load(valid.path(), null).source().tensors());
        // stories260K: per layer q 64×64, k and v 32×64, o 64×64, gate and up 172×64, down 64×172
        long weights = 5L * (64 * 64 * 2 + 32 * 64 * 2 + 172 * 64 * 3);
        assertEquals(weights, size.weights());
        long signBytes = 5L * 8 * (64 + 32 + 32 + 64 + 172 + 172) + 5L * 64 * 24;
        assertEquals(signBytes, size.signBytes());
        long scaleFloats = 5L * 4 * (2 * 64 * 6 + 2 * 172 + 64 + 32 + 32 + 64 + 172 + 172 + 64);
        assertEquals(scaleFloats * 4, size.scaleBytes());
    }
}
