package dev.binmos.engine.format.safetensors;

import dev.binmos.engine.format.Mapped;
import dev.binmos.engine.format.ModelFormatException;
import dev.binmos.engine.tensor.FloatTensor;
import dev.binmos.engine.tensor.Tensors;
import dev.binmos.engine.util.Json;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A memory-mapped safetensors file: a little-endian uint64 header length, a JSON header
 * ({@code name → {dtype, shape, data_offsets}} plus optional string {@code __metadata__}), then the
 * data. Opening checks every entry: known dtype, shape × dtype size = byte length, offsets inside the
 * data and not overlapping.
 */
public final class SafetensorsFile {
    /** The reference implementation's limit; also bounds what a corrupt length makes us decode. */
    static final long MAX_HEADER_BYTES = 100_000_000;
    static final String METADATA_KEY = "__metadata__";

    private final Path path;
    private final MemorySegment data;
    private final Map<String, String> metadata;
    private final Map<String, SafetensorsTensor> tensors;

    private SafetensorsFile(Path path, MemorySegment data, Map<String, String> metadata, Map<String, SafetensorsTensor> tensors) {
        this.path = path;
        this.data = data;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /** Maps and checks file; content problems throw {@link ModelFormatException} naming the field. */
    public static SafetensorsFile open(Path file) throws IOException {
        MemorySegment mapped = Mapped.map(file);
        long size = mapped.byteSize();
        if (size < 8) {
            throw new ModelFormatException(file, "header length", "file of " + size + " bytes is too short for a safetensors file");
        }
        long headerBytes = mapped.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerBytes < 2 || headerBytes > size - 8 || headerBytes > MAX_HEADER_BYTES) {
            throw new ModelFormatException(file, "header length", Long.toUnsignedString(headerBytes)
                    + " bytes does not fit a JSON header in a file of " + size + " bytes (limit " + MAX_HEADER_BYTES + ")");
        }
        Map<String, Object> header = parseHeader(file, mapped.asSlice(8, headerBytes));
        MemorySegment data = mapped.asSlice(8 + headerBytes);
        Map<String, String> metadata = Map.of();
        Map<String, SafetensorsTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : header.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                metadata = metadata(file, e.getValue());
            } else {
                tensors.put(e.getKey(), entry(file, e.getKey(), e.getValue(), data.byteSize()));
            }
        }
        checkOverlaps(file, tensors.values());
        return new SafetensorsFile(file, data, metadata, Collections.unmodifiableMap(tensors));
    }

    private static Map<String, Object> parseHeader(Path file, MemorySegment bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes.toArray(ValueLayout.JAVA_BYTE))).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(file, "header", "not valid UTF-8");
        }
        try {
            return Json.parseObject(text);
        } catch (Json.JsonException e) {
            throw new ModelFormatException(file, "header JSON", e.getMessage());
        }
    }

    private static Map<String, String> metadata(Path file, Object value) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new ModelFormatException(file, METADATA_KEY, "must be an object of strings");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new ModelFormatException(file, METADATA_KEY + "." + e.getKey(), "must be a string, found " + e.getValue());
            }
            out.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private static SafetensorsTensor entry(Path file, String name, Object value, long dataBytes) {
        String field = "tensor '" + name + "'";
        if (!(value instanceof Map<?, ?> map)) {
            throw new ModelFormatException(file, field, "must be an object with dtype, shape and data_offsets");
        }
        if (!(map.get("dtype") instanceof String dtypeName)) {
            throw new ModelFormatException(file, field + " dtype", "missing or not a string");
        }
        SafetensorsDtype dtype = SafetensorsDtype.byName(dtypeName);
        if (dtype == null) {
            throw new ModelFormatException(file, field + " dtype", "unknown dtype '" + dtypeName + "'");
        }
        long[] shape = longs(file, field + " shape", map.get("shape"), -1);
        long[] offsets = longs(file, field + " data_offsets", map.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end || end > dataBytes) {
            throw new ModelFormatException(file, field + " data_offsets", Arrays.toString(offsets)
                    + " is not a range inside the " + dataBytes + " data bytes");
        }
        long bytes;
        try {
            long elements = 1;
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            bytes = Math.multiplyExact(elements, dtype.bytes);
        } catch (ArithmeticException overflow) {
            throw new ModelFormatException(file, field + " shape", Arrays.toString(shape) + " is too large");
        }
        if (bytes != end - begin) {
            throw new ModelFormatException(file, field + " shape", Arrays.toString(shape) + " of " + dtype + " needs " + bytes
                    + " bytes, data_offsets " + Arrays.toString(offsets) + " hold " + (end - begin));
        }
        return new SafetensorsTensor(name, dtype, shape, begin, end);
    }

    /** A JSON array of non-negative integers, of {@code length} entries unless that is negative. */
    private static long[] longs(Path file, String field, Object value, int length) {
        if (!(value instanceof List<?> list) || (length >= 0 && list.size() != length)) {
            throw new ModelFormatException(file, field, "must be an array of " + (length >= 0 ? length + " " : "") + "integers, found " + Json.write(value));
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long n) || n < 0) {
                throw new ModelFormatException(file, field, "must hold non-negative integers, found " + Json.write(list.get(i)));
            }
            out[i] = n;
        }
        return out;
    }

    private static void checkOverlaps(Path file, Iterable<SafetensorsTensor> entries) {
        List<SafetensorsTensor> sorted = new ArrayList<>();
        entries.forEach(sorted::add);
        sorted.sort(Comparator.comparingLong(SafetensorsTensor::begin).thenComparingLong(SafetensorsTensor::end));
        for (int i = 1; i < sorted.size(); i++) {
            SafetensorsTensor previous = sorted.get(i - 1);
            SafetensorsTensor t = sorted.get(i);
            if (t.begin() < previous.end()) {
                throw new ModelFormatException(file, "tensor '" + t.name() + "' data_offsets",
                        "[" + t.begin() + ", " + t.end() + "] overlaps tensor '" + previous.name() + "' [" + previous.begin() + ", " + previous.end() + "]");
            }
        }
    }

    public Path path() {
        return path;
    }

    /** The header's {@code __metadata__}, empty when it has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor descriptions in header order. */
    public Map<String, SafetensorsTensor> tensors() {
        return tensors;
    }

    /** The tensor's data as floats, still memory-mapped; F32, F16 and BF16 only. */
    public FloatTensor tensor(SafetensorsTensor t) {
        if (t.dtype().ggmlType == null) {
            throw new ModelFormatException(path, "tensor '" + t.name() + "' dtype", t.dtype() + " is not supported here (Binmos reads F32, F16 and BF16 weights)");
        }
        return Tensors.view(t.dtype().ggmlType, data.asSlice(t.begin(), t.end() - t.begin()), t.elements());
    }
}
