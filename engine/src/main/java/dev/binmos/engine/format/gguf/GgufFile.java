package dev.binmos.engine.format.gguf;

import dev.binmos.engine.format.ModelFormatException;
import dev.binmos.engine.tensor.FloatTensor;
import dev.binmos.engine.tensor.GgmlType;
import dev.binmos.engine.tensor.Tensors;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A memory-mapped GGUF file (versions 2 and 3, little-endian; layout in ggml's docs/gguf.md): header,
 * metadata, tensor infos and the aligned data section. Opening checks the whole header and every
 * tensor's extent against the file, so a file that opens can be read without further bounds errors.
 *
 * <p>Each tensor is a mapping of its own. The kernel maps pages around a faulting one that are already
 * in the page cache (fault-around, whole large folios), and only within one mapping: with the file in
 * one mapping, reading a small router next to a sign tensor that was copied and given back made the
 * sign pages resident again (16 MiB for a 7B model, more with a warm page cache).
 */
public final class GgufFile {
    /** "GGUF" read as a little-endian uint32. */
    static final int MAGIC = 0x46554747;
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";
    /** GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    /** Smallest tensor info: empty name (8), n_dims (4), one dimension (8), type (4), offset (8). */
    private static final int MIN_TENSOR_INFO_BYTES = 32;
    /** Smallest metadata pair: empty key (8), value type (4), one-byte value. */
    private static final int MIN_KV_BYTES = 13;

    private final Path path;
    private final Map<String, MemorySegment> data;
    private final int version;
    private final Map<String, Object> metadata;
    private final int alignment;
    private final long dataStart;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> byName;

    private GgufFile(Path path, Map<String, MemorySegment> data, int version, Map<String, Object> metadata, int alignment,
                     long dataStart, List<GgufTensorInfo> tensors, Map<String, GgufTensorInfo> byName) {
        this.path = path;
        this.data = data;
        this.version = version;
        this.metadata = metadata;
        this.alignment = alignment;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.byName = byName;
    }

    /** Maps and checks file; content problems throw {@link ModelFormatException} naming the field. */
    public static GgufFile open(Path file) throws IOException {
        try (Arena header = Arena.ofConfined(); FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return open(file, channel, channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), header));
        }
    }

    private static GgufFile open(Path file, FileChannel channel, MemorySegment data) throws IOException {
        GgufReader in = new GgufReader(file, data);
        int magic = in.u32("magic");
        if (magic != MAGIC) {
            throw in.error("magic", String.format("not a GGUF file: expected bytes 47 47 55 46 (\"GGUF\"), found %02x %02x %02x %02x",
                    magic & 0xFF, (magic >>> 8) & 0xFF, (magic >>> 16) & 0xFF, magic >>> 24));
        }
        int version = in.u32("version");
        if (version != 2 && version != 3) {
            throw in.error("version", Integer.reverseBytes(version) == 3
                    ? "big-endian GGUF is not supported"
                    : "GGUF version " + Integer.toUnsignedString(version) + " is not supported (Binmos reads versions 2 and 3)");
        }
        long tensorCount = in.count("tensor_count", "tensors", MIN_TENSOR_INFO_BYTES);
        long kvCount = in.count("metadata_kv_count", "metadata pairs", MIN_KV_BYTES);

        Map<String, Object> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string("metadata key #" + i);
            String field = "metadata '" + key + "'";
            GgufValueType type = in.valueType(field + " type");
            if (metadata.put(key, in.value(type, field)) != null) {
                throw in.error(field, "duplicate key");
            }
        }
        int alignment = alignment(in, metadata);

        List<GgufTensorInfo> tensors = new ArrayList<>();
        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            GgufTensorInfo info = tensorInfo(in, i, alignment);
            if (byName.put(info.name(), info) != null) {
                throw in.error("tensor '" + info.name() + "'", "duplicate tensor name");
            }
            tensors.add(info);
        }
        long dataStart = align(in.position(), alignment);
        Map<String, MemorySegment> mapped = new LinkedHashMap<>();
        for (GgufTensorInfo info : tensors) {
            checkExtent(in, info, dataStart, data.byteSize());
            mapped.put(info.name(), info.byteSize() == 0 ? MemorySegment.NULL
                    : channel.map(FileChannel.MapMode.READ_ONLY, dataStart + info.offset(), info.byteSize(), Arena.ofAuto()));
        }
        return new GgufFile(file, Collections.unmodifiableMap(mapped), version, Collections.unmodifiableMap(metadata), alignment, dataStart,
                List.copyOf(tensors), Collections.unmodifiableMap(byName));
    }

    private static int alignment(GgufReader in, Map<String, Object> metadata) {
        Object value = metadata.get(ALIGNMENT_KEY);
        if (value == null) {
            return DEFAULT_ALIGNMENT;
        }
        if (!(value instanceof Long a) || a <= 0 || a > 1 << 30 || Long.bitCount(a) != 1) {
            throw in.error("metadata '" + ALIGNMENT_KEY + "'", "must be a power of two integer, found " + value);
        }
        return (int) (long) a;
    }

    private static GgufTensorInfo tensorInfo(GgufReader in, long index, int alignment) {
        String name = in.string("tensor info #" + index + " name");
        String field = "tensor '" + name + "'";
        int nDims = in.u32(field + " n_dims");
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw in.error(field + " n_dims", Integer.toUnsignedString(nDims) + " dimensions (must be 1 to " + MAX_DIMS + ")");
        }
        long[] dims = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
            dims[d] = in.u64(field + " ne[" + d + "]");
            if (dims[d] < 0) {
                throw in.error(field + " ne[" + d + "]", "dimension " + Long.toUnsignedString(dims[d]) + " is too large");
            }
            try {
                elements = Math.multiplyExact(elements, dims[d]);
            } catch (ArithmeticException overflow) {
                throw in.error(field + " dims", "element count of " + Arrays.toString(dims) + " overflows");
            }
        }
        int typeId = in.u32(field + " type");
        GgmlType type = GgmlType.byId(typeId);
        if (type == null) {
            throw in.error(field + " type", "unsupported tensor type " + Integer.toUnsignedString(typeId)
                    + " (Binmos reads " + Arrays.stream(GgmlType.values()).map(t -> t + "=" + t.id).collect(Collectors.joining(", ")) + ")");
        }
        if (dims[0] % type.blockSize != 0) {
            throw in.error(field + " ne[0]", "row length " + dims[0] + " is not a multiple of the " + type + " block size " + type.blockSize);
        }
        if (elements / type.blockSize > Long.MAX_VALUE / type.blockBytes) {
            throw in.error(field + " dims", Arrays.toString(dims) + " of " + type + " is larger than any file");
        }
        long offset = in.u64(field + " offset");
        if (offset < 0 || offset % alignment != 0) {
            throw in.error(field + " offset", "offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
        }
        return new GgufTensorInfo(name, dims, type, offset);
    }

    private static void checkExtent(GgufReader in, GgufTensorInfo info, long dataStart, long fileSize) {
        long available = fileSize - dataStart;
        if (info.offset() > available || info.byteSize() > available - info.offset()) {
            throw in.error("tensor '" + info.name() + "' data", info.byteSize() + " bytes at file offset "
                    + (dataStart + info.offset()) + " extend beyond the end of the file (" + fileSize + " bytes)");
        }
    }

    static long align(long position, int alignment) {
        return (position + alignment - 1) & -alignment;
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    /** Metadata in file order: integers as Long, FLOAT32 as Float, FLOAT64 as Double, Boolean, String, List. */
    public Map<String, Object> metadata() {
        return metadata;
    }

    public int alignment() {
        return alignment;
    }

    /** File offset of the data section, which tensor offsets are relative to. */
    public long dataStart() {
        return dataStart;
    }

    public List<GgufTensorInfo> tensors() {
        return tensors;
    }

    /** The tensor info of name, or null when the file has no such tensor. */
    public GgufTensorInfo tensorInfo(String name) {
        return byName.get(name);
    }

    /** The tensor's data as floats, still memory-mapped; float types only (see {@link #bytes} for the others). */
    public FloatTensor tensor(GgufTensorInfo info) {
        if (!info.type().isFloat()) {
            throw new ModelFormatException(path, "tensor " + info.name() + " type", info.type() + " holds raw data, not float weights");
        }
        return Tensors.view(info.type(), bytes(info), info.elements());
    }

    /** The tensor's raw bytes, still memory-mapped: for any type, e.g. BinaryMoS packed signs stored as I8. */
    public MemorySegment bytes(GgufTensorInfo info) {
        MemorySegment bytes = data.get(info.name());
        if (bytes == null || bytes.byteSize() != info.byteSize()) {
            throw new IllegalArgumentException("tensor " + info.name() + " is not one of " + path + "'s");
        }
        return bytes;
    }

    public FloatTensor tensor(String name) {
        GgufTensorInfo info = byName.get(name);
        if (info == null) {
            throw new ModelFormatException(path, "tensor " + name, "missing");
        }
        return tensor(info);
    }
}
