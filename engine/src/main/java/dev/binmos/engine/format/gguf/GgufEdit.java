package dev.binmos.engine.format.gguf;

import dev.binmos.engine.format.Mapped;
import dev.binmos.engine.format.TensorOutput;
import dev.binmos.engine.model.Llama;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Copies a GGUF file with metadata added or replaced. Every other byte is copied as it is (metadata of
 * any type, tensor infos, tensor data of any type), so nothing is decoded and re-encoded.
 */
public final class GgufEdit {
    private static final int COPY_BYTES = 1 << 24;

    private GgufEdit() {
    }

    /**
     * Writes a model as GGUF with metadata added: a GGUF model is copied byte for byte, any other is
     * exported with {@link GgufExport}. Values: Long as UINT32, Float or Double as FLOAT32, String as STRING.
     */
    public static void withMetadata(Llama model, Map<String, Object> metadata, Path out) throws IOException {
        Path partial = out.toAbsolutePath().resolveSibling(out.getFileName() + ".partial");
        boolean gguf = "gguf".equals(model.source().format());
        GgufWriter writer = gguf ? new GgufWriter() : GgufExport.writer(model);
        metadata.forEach((key, value) -> {
            switch (value) {
                case Long n -> writer.putUInt32(key, n);
                case Float f -> writer.putFloat32(key, f);
                case Double d -> writer.putFloat32(key, d.floatValue());
                case String text -> writer.putString(key, text);
                default -> throw new IllegalArgumentException("metadata " + key + ": cannot write " + value);
            }
        });
        if (gguf) {
            withMetadata(model.source().path(), writer, partial);
        } else {
            writer.write(partial);
        }
        Files.move(partial, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Writes source to out with the metadata of {@code metadata} (a writer holding only metadata) put in. */
    public static void withMetadata(Path source, GgufWriter metadata, Path out) throws IOException {
        Set<String> replaced = metadata.metadataKeys();
        if (replaced.contains(GgufFile.ALIGNMENT_KEY)) {
            throw new IllegalArgumentException("the alignment of a copied GGUF file cannot change");
        }
        GgufFile file = GgufFile.open(source);
        MemorySegment data = Mapped.map(source);
        GgufReader in = new GgufReader(source, data);
        in.u32("magic");
        in.u32("version");
        long tensorCount = in.u64("tensor_count");
        long kvCount = in.u64("metadata_kv_count");
        List<long[]> kept = new ArrayList<>();
        for (long i = 0; i < kvCount; i++) {
            long start = in.position();
            String key = in.string("metadata key #" + i);
            in.value(in.valueType(key + " type"), key);
            if (!replaced.contains(key)) {
                kept.add(new long[] {start, in.position()});
            }
        }
        long infoStart = in.position();
        for (long i = 0; i < tensorCount; i++) {
            in.string("tensor info #" + i + " name");
            int dims = in.u32("n_dims");
            for (int d = 0; d < dims; d++) {
                in.u64("ne");
            }
            in.u32("type");
            in.u64("offset");
        }
        long infoEnd = in.position();
        try (TensorOutput o = new TensorOutput(out)) {
            o.write(ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putInt(GgufFile.MAGIC).putInt(file.version())
                    .putLong(tensorCount).putLong(kept.size() + replaced.size()).array());
            for (long[] range : kept) {
                copy(data, range[0], range[1], o);
            }
            o.write(metadata.encodedMetadata());
            copy(data, infoStart, infoEnd, o);
            o.pad(file.alignment());
            copy(data, file.dataStart(), data.byteSize(), o);
        }
    }

    private static void copy(MemorySegment data, long from, long to, TensorOutput out) throws IOException {
        for (long at = from; at < to; at += COPY_BYTES) {
            out.write(data.asSlice(at, Math.min(COPY_BYTES, to - at)).toArray(ValueLayout.JAVA_BYTE));
        }
    }
}
