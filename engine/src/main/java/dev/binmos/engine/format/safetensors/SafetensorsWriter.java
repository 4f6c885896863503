package dev.binmos.engine.format.safetensors;

import dev.binmos.engine.format.RowSource;
import dev.binmos.engine.format.TensorOutput;
import dev.binmos.engine.util.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

/**
 * Writes a safetensors file of F32, F16 or BF16 tensors, streaming each tensor's rows from its
 * {@link RowSource}. Tensors are stored in the order added; the header is padded with spaces to a
 * multiple of 8 bytes, as the reference implementation does.
 */
public final class SafetensorsWriter {

    private record Tensor(SafetensorsDtype dtype, long[] shape, RowSource rows) {
        long elements() {
            return LongStream.of(shape).reduce(1, Math::multiplyExact);
        }
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    /** A {@code __metadata__} entry (Hugging Face writes {@code format: pt}). */
    public SafetensorsWriter putMetadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds a tensor whose rows (the innermost dimension of shape, which is outermost first) come from rows. */
    public SafetensorsWriter add(String name, SafetensorsDtype dtype, long[] shape, RowSource rows) {
        if (dtype.ggmlType == null) {
            throw new IllegalArgumentException(name + ": writing " + dtype + " from floats is not supported");
        }
        if (shape.length == 0 || LongStream.of(shape).anyMatch(d -> d < 1) || shape[shape.length - 1] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + ": unsupported shape " + Arrays.toString(shape));
        }
        if (name.equals(SafetensorsFile.METADATA_KEY) || tensors.putIfAbsent(name, new Tensor(dtype, shape.clone(), rows)) != null) {
            throw new IllegalArgumentException("tensor name " + name + " used twice or reserved");
        }
        return this;
    }

    /** Adds a tensor from row-major values. */
    public SafetensorsWriter add(String name, SafetensorsDtype dtype, long[] shape, float[] values) {
        long elements = LongStream.of(shape).reduce(1, Math::multiplyExact);
        if (elements != values.length) {
            throw new IllegalArgumentException(name + ": " + values.length + " values for " + elements + " elements");
        }
        return add(name, dtype, shape, RowSource.of(values));
    }

    public void write(Path file) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put(SafetensorsFile.METADATA_KEY, metadata);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            long end = offset + t.elements() * t.dtype().bytes;
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", t.dtype().name());
            entry.put("shape", t.shape());
            entry.put("data_offsets", List.of(offset, end));
            header.put(e.getKey(), entry);
            offset = end;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & -8;
        try (TensorOutput out = new TensorOutput(file)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(json);
            out.write(" ".repeat(padded - json.length).getBytes(StandardCharsets.US_ASCII));
            for (Tensor t : tensors.values()) {
                int rowLength = (int) t.shape()[t.shape().length - 1];
                out.writeRows(t.dtype().ggmlType, t.elements() / rowLength, rowLength, t.rows());
            }
        }
    }
}
