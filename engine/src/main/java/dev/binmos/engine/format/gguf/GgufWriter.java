package dev.binmos.engine.format.gguf;

import dev.binmos.engine.format.ByteRowSource;
import dev.binmos.engine.format.RowSource;
import dev.binmos.engine.format.TensorOutput;
import dev.binmos.engine.tensor.GgmlType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file. Metadata and tensor descriptions are collected first; {@link #write} then
 * streams each tensor's rows from its {@link RowSource}, so tensors of any size are written without
 * being held in memory. The alignment is that of {@code general.alignment} when put, else 32.
 *
 * <pre>{@code
 * new GgufWriter()
 *         .putString("general.architecture", "llama")
 *         .put("llama.block_count", GgufValueType.UINT32, 32L)
 *         .addTensor("token_embd.weight", GgmlType.F16, new long[] {vocab, dim}, (row, values) -> ...)
 *         .write(path);
 * }</pre>
 */
public final class GgufWriter {

    /** An array value: its element type and elements (themselves {@code Array}s for nested arrays). */
    public record Array(GgufValueType elementType, List<?> values) {
    }

    private record Value(GgufValueType type, Object value) {
    }

    /** Where a tensor's data comes from: floats to encode, or raw bytes. One of the two is null. */
    private record Tensor(String name, GgmlType type, long[] shape, RowSource rows, ByteRowSource rawRows) {
        long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        int rowLength() {
            return (int) shape[shape.length - 1];
        }

        void write(TensorOutput out) throws IOException {
            long rowCount = elements() / rowLength();
            if (rows != null) {
                out.writeRows(type, rowCount, rowLength(), rows);
            } else {
                out.writeRawRows(rowCount, Math.toIntExact(type.byteSize(rowLength())), rawRows);
            }
        }
    }

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    /**
     * Adds a metadata pair. Integer types take any {@link Number} in range (UINT64 takes a long's bits),
     * FLOAT32/FLOAT64 any Number, BOOL a Boolean, STRING a String, ARRAY an {@link Array}.
     */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        check(type, value, key);
        if (metadata.putIfAbsent(key, new Value(type, value)) != null) {
            throw new IllegalArgumentException("metadata key " + key + " added twice");
        }
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    public GgufWriter putUInt32(String key, long value) {
        return put(key, GgufValueType.UINT32, value);
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    public GgufWriter putArray(String key, GgufValueType elementType, List<?> values) {
        return put(key, GgufValueType.ARRAY, new Array(elementType, values));
    }

    /**
     * Adds a tensor whose rows {@code rows} produces when the file is written.
     *
     * @param shape outermost first, e.g. [out, in] for a weight matrix; the innermost dimension is a row
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, RowSource rows) {
        if (!type.isFloat()) {
            throw new IllegalArgumentException(name + ": " + type + " tensors are written from bytes (addRawTensor)");
        }
        return add(new Tensor(name, type, shape.clone(), rows, null));
    }

    /**
     * Adds a tensor whose rows {@code rows} produces as stored bytes ({@code type.byteSize(row length)} per
     * row) when the file is written: for integer types such as I8.
     */
    public GgufWriter addRawTensor(String name, GgmlType type, long[] shape, ByteRowSource rows) {
        return add(new Tensor(name, type, shape.clone(), null, rows));
    }

    private GgufWriter add(Tensor tensor) {
        String name = tensor.name();
        GgmlType type = tensor.type();
        long[] shape = tensor.shape();
        if (shape.length < 1 || shape.length > GgufFile.MAX_DIMS) {
            throw new IllegalArgumentException(name + ": GGUF tensors have 1 to " + GgufFile.MAX_DIMS + " dimensions, got " + shape.length);
        }
        for (long d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException(name + ": dimensions must be positive, got " + d);
            }
        }
        long rowLength = shape[shape.length - 1];
        if (rowLength % type.blockSize != 0 || rowLength > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + ": row length " + rowLength + " does not fit " + type + " (block size " + type.blockSize + ")");
        }
        if (tensors.putIfAbsent(name, tensor) != null) {
            throw new IllegalArgumentException("tensor " + name + " added twice");
        }
        return this;
    }

    /** Adds a tensor from row-major values. */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, float[] values) {
        long elements = 1;
        for (long d : shape) {
            elements *= d;
        }
        if (elements != values.length) {
            throw new IllegalArgumentException(name + ": " + values.length + " values for " + elements + " elements");
        }
        return addTensor(name, type, shape, RowSource.of(values));
    }

    public void write(Path file) throws IOException {
        int alignment = alignment();
        Bytes header = new Bytes();
        header.u32(GgufFile.MAGIC);
        header.u32(3);
        header.u64(tensors.size());
        header.u64(metadata.size());
        header.writeBytes(encodedMetadata());
        long offset = 0;
        for (Tensor t : tensors.values()) {
            header.string(t.name());
            header.u32(t.shape().length);
            for (int d = t.shape().length - 1; d >= 0; d--) {
                header.u64(t.shape()[d]);
            }
            header.u32(t.type().id);
            header.u64(offset);
            offset = GgufFile.align(offset + t.type().byteSize(t.elements()), alignment);
        }
        try (TensorOutput out = new TensorOutput(file)) {
            out.write(header.toByteArray());
            out.pad(alignment);
            for (Tensor t : tensors.values()) {
                t.write(out);
                out.pad(alignment);
            }
        }
    }

    /** The metadata pairs as a file stores them, for {@link GgufEdit}. */
    byte[] encodedMetadata() {
        Bytes out = new Bytes();
        metadata.forEach((key, value) -> {
            out.string(key);
            out.u32(value.type().id);
            out.value(value.type(), value.value());
        });
        return out.toByteArray();
    }

    java.util.Set<String> metadataKeys() {
        return metadata.keySet();
    }

    private int alignment() {
        Value value = metadata.get(GgufFile.ALIGNMENT_KEY);
        if (value == null) {
            return GgufFile.DEFAULT_ALIGNMENT;
        }
        long a = value.type() == GgufValueType.UINT32 ? ((Number) value.value()).longValue() : 0;
        if (Long.bitCount(a) != 1 || a > 1 << 30) {
            throw new IllegalArgumentException(GgufFile.ALIGNMENT_KEY + " must be a UINT32 power of two, got " + value.type() + " " + value.value());
        }
        return (int) a;
    }

    private static void check(GgufValueType type, Object value, String key) {
        boolean ok = switch (type) {
            case UINT8 -> inRange(value, 0, 0xFF);
            case INT8 -> inRange(value, Byte.MIN_VALUE, Byte.MAX_VALUE);
            case UINT16 -> inRange(value, 0, 0xFFFF);
            case INT16 -> inRange(value, Short.MIN_VALUE, Short.MAX_VALUE);
            case UINT32 -> inRange(value, 0, 0xFFFF_FFFFL);
            case INT32 -> inRange(value, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case UINT64, INT64 -> inRange(value, Long.MIN_VALUE, Long.MAX_VALUE);
            case FLOAT32, FLOAT64 -> value instanceof Number;
            case BOOL -> value instanceof Boolean;
            case STRING -> value instanceof String;
            case ARRAY -> value instanceof Array;
        };
        if (!ok) {
            throw new IllegalArgumentException("metadata " + key + ": " + value + " is not a valid " + type);
        }
        if (value instanceof Array(GgufValueType elementType, List<?> values)) {
            for (Object element : values) {
                check(elementType, element, key);
            }
        }
    }

    private static boolean inRange(Object value, long min, long max) {
        return (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte)
                && ((Number) value).longValue() >= min && ((Number) value).longValue() <= max;
    }

    /** A growing little-endian byte buffer for the header. */
    private static final class Bytes extends ByteArrayOutputStream {
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        void u32(int v) {
            write(scratch.clear().putInt(v).array(), 0, 4);
        }

        void u64(long v) {
            write(scratch.clear().putLong(v).array(), 0, 8);
        }

        void string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            u64(bytes.length);
            write(bytes, 0, bytes.length);
        }

        void value(GgufValueType type, Object value) {
            switch (type) {
                case UINT8, INT8 -> write(((Number) value).intValue());
                case UINT16, INT16 -> write(scratch.clear().putShort(((Number) value).shortValue()).array(), 0, 2);
                case UINT32, INT32 -> u32(((Number) value).intValue());
                case UINT64, INT64 -> u64(((Number) value).longValue());
                case FLOAT32 -> u32(Float.floatToRawIntBits(((Number) value).floatValue()));
                case FLOAT64 -> u64(Double.doubleToRawLongBits(((Number) value).doubleValue()));
                case BOOL -> write((Boolean) value ? 1 : 0);
                case STRING -> string((String) value);
                case ARRAY -> {
                    Array array = (Array) value;
                    u32(array.elementType().id);
                    u64(array.values().size());
                    for (Object element : array.values()) {
                        value(array.elementType(), element);
                    }
                }
            }
        }
    }
}
