package dev.binmos.engine.format.gguf;

import dev.binmos.engine.binarymos.BinaryMosLinear;
import dev.binmos.engine.binarymos.PackedSigns;
import dev.binmos.engine.format.LlamaTensors;
import dev.binmos.engine.format.LlamaTensors.Part;
import dev.binmos.engine.format.ModelFormatException;
import dev.binmos.engine.linear.DenseLinear;
import dev.binmos.engine.linear.Linear;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.LayerWeights;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.model.TensorEntry;
import dev.binmos.engine.tensor.FloatTensor;
import dev.binmos.engine.tensor.GgmlType;
import dev.binmos.engine.tokenizer.Tokenizer;
import dev.binmos.engine.util.ProgressListener;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * BinaryMoS models in GGUF (docs/FORMAT.md): a llama GGUF whose decoder-block linears are each four
 * tensors {@code blk.N.<name>.signs} (I8 [out, 8·⌈in/64⌉]: the bytes of {@link PackedSigns}),
 * {@code .router} [E, in], {@code .s_in} [E, in] and {@code .s_out} [E, out], announced by {@code binmos.*}
 * metadata. Embeddings, norms and the classifier are ordinary llama tensors.
 */
public final class BinaryMosGguf {
    public static final String FORMAT_VERSION_KEY = "binmos.format_version";
    public static final String EXPERTS_KEY = "binmos.experts";
    public static final String BIT_ORDER_KEY = "binmos.bit_order";
    public static final String ROW_PADDING_KEY = "binmos.row_padding";
    public static final int FORMAT_VERSION = 1;
    /** Column c of a row is bit c % 8 (least significant first) of byte c / 8 of the row; a set bit is −1. */
    public static final String BIT_ORDER = "lsb0-minus1";
    /** Rows of signs are padded to whole 64-bit words, with zero (+1) bits that meet zero activations. */
    public static final int ROW_PADDING = 64;
    public static final String SIGNS = ".signs";
    public static final String ROUTER = ".router";
    public static final String S_IN = ".s_in";
    public static final String S_OUT = ".s_out";
    /** More experts than any published model by far: bounds what a corrupt header makes us allocate. */
    private static final int MAX_EXPERTS = 1024;

    private BinaryMosGguf() {
    }

    /** Whether the file announces BinaryMoS linears (any {@code binmos.*} key). */
    public static boolean isBinaryMos(GgufFile gguf) {
        return gguf.metadata().keySet().stream().anyMatch(key -> key.startsWith("binmos."));
    }

    /** The name of one tensor of a binarized linear, e.g. {@code blk.3.attn_q.signs}. */
    public static String tensorName(int layer, Part part, String suffix) {
        return GgufModel.blockName(layer, part) + suffix;
    }

    /**
     * Checks the {@code binmos.*} metadata and returns the reader of each block's linears: signs stay
     * memory-mapped, routers and scales too (read where they are, whatever their float type).
     */
    public static LlamaTensors.BlockLinears linears(GgufFile gguf) {
        int experts = checkMetadata(gguf);
        // GGUF q/k rows are interleaved already, so no row order is ever asked for
        return (layer, part, out, in, rowOrder) -> linear(gguf, GgufModel.blockName(layer, part), out, in, experts);
    }

    private static int checkMetadata(GgufFile gguf) {
        Map<String, Object> meta = gguf.metadata();
        Object version = meta.get(FORMAT_VERSION_KEY);
        if (!Long.valueOf(FORMAT_VERSION).equals(version)) {
            throw metadataError(gguf, FORMAT_VERSION_KEY, version == null ? "missing"
                    : "BinaryMoS format version " + version + " is not supported (Binmos reads " + FORMAT_VERSION + ")");
        }
        Object bitOrder = meta.get(BIT_ORDER_KEY);
        if (!BIT_ORDER.equals(bitOrder)) {
            throw metadataError(gguf, BIT_ORDER_KEY, bitOrder == null ? "missing"
                    : "unknown bit order " + bitOrder + " (Binmos reads " + BIT_ORDER + ")");
        }
        Object padding = meta.get(ROW_PADDING_KEY);
        if (!Long.valueOf(ROW_PADDING).equals(padding)) {
            throw metadataError(gguf, ROW_PADDING_KEY, padding == null ? "missing"
                    : "row padding " + padding + " is not supported (Binmos reads " + ROW_PADDING + ")");
        }
        Object experts = meta.get(EXPERTS_KEY);
        if (!(experts instanceof Long e) || e < 1 || e > MAX_EXPERTS) {
            throw metadataError(gguf, EXPERTS_KEY, experts == null ? "missing"
                    : "must be an expert count from 1 to " + MAX_EXPERTS + ", found " + experts);
        }
        return (int) (long) experts;
    }

    private static BinaryMosLinear linear(GgufFile gguf, String base, int out, int in, int experts) {
        GgufTensorInfo signs = require(gguf, base + SIGNS);
        if (signs.type() != GgmlType.I8) {
            throw new ModelFormatException(gguf.path(), "tensor " + signs.name() + " type", "expected I8 (packed signs), found " + signs.type());
        }
        long[] packed = {out, Long.BYTES * PackedSigns.wordsPerRow(in)};
        if (!Arrays.equals(signs.shape(), packed)) {
            throw new ModelFormatException(gguf.path(), "tensor " + signs.name() + " shape", "expected " + Arrays.toString(packed)
                    + " (out, in/8 padded to 64 columns) for the logical [" + out + ", " + in + "], found " + Arrays.toString(signs.shape()));
        }
        return new BinaryMosLinear(new PackedSigns(out, in, gguf.bytes(signs)),
                scales(gguf, base + ROUTER, experts, in), scales(gguf, base + S_IN, experts, in),
                scales(gguf, base + S_OUT, experts, out), experts, BinaryMosLinear.Kernel.preferred());
    }

    private static FloatTensor scales(GgufFile gguf, String name, int experts, int length) {
        GgufTensorInfo info = require(gguf, name);
        long[] shape = {experts, length};
        if (!Arrays.equals(info.shape(), shape)) {
            throw new ModelFormatException(gguf.path(), "tensor " + name + " shape", "expected " + Arrays.toString(shape)
                    + " (" + EXPERTS_KEY + " = " + experts + "), found " + Arrays.toString(info.shape()));
        }
        return gguf.tensor(info);
    }

    private static GgufTensorInfo require(GgufFile gguf, String name) {
        GgufTensorInfo info = gguf.tensorInfo(name);
        if (info == null) {
            throw new ModelFormatException(gguf.path(), "tensor " + name, "missing (every block linear of a BinaryMoS file has "
                    + SIGNS + ", " + ROUTER + ", " + S_IN + " and " + S_OUT + ")");
        }
        return info;
    }

    private static ModelFormatException metadataError(GgufFile gguf, String key, String problem) {
        return new ModelFormatException(gguf.path(), "metadata '" + key + "'", problem);
    }

    /** {@link GgufModel#writer} plus the {@code binmos.*} keys. */
    public static GgufWriter writer(Configuration c, Tokenizer tokenizer, String name, int experts) {
        if (experts < 1 || experts > MAX_EXPERTS) {
            throw new IllegalArgumentException("experts must be from 1 to " + MAX_EXPERTS + ", got " + experts);
        }
        return GgufModel.writer(c, tokenizer, name)
                .putUInt32(FORMAT_VERSION_KEY, FORMAT_VERSION)
                .putUInt32(EXPERTS_KEY, experts)
                .putString(BIT_ORDER_KEY, BIT_ORDER)
                .putUInt32(ROW_PADDING_KEY, ROW_PADDING);
    }

    /**
     * Adds the four tensors of one binarized linear of shape [out, in]. {@code linear} is called when the
     * file is written, as its signs are reached, and let go after its S_out: a writer holds one linear at a
     * time, so models of any size can be produced on the fly.
     *
     * @param scaleType storage of router and scales: F32, F16 or BF16
     */
    public static void addLinear(GgufWriter w, int layer, Part part, int out, int in, int experts, GgmlType scaleType,
                                 Supplier<BinaryMosLinear> linear) {
        if (!scaleType.isFloat() || scaleType.blockSize != 1) {
            throw new IllegalArgumentException("routers and scales are stored as F32, F16 or BF16, not " + scaleType);
        }
        BinaryMosLinear[] held = new BinaryMosLinear[1];
        // router, S_in, S_out as floats, taken once per linear (a mapped tensor's are copies)
        float[][] scales = new float[3][];
        int rowBytes = Long.BYTES * PackedSigns.wordsPerRow(in);
        w.addRawTensor(tensorName(layer, part, SIGNS), GgmlType.I8, new long[] {out, rowBytes}, (row, bytes) -> {
            if (row == 0) {
                held[0] = checked(linear.get(), layer, part, out, in, experts);
                scales[0] = held[0].router();
                scales[1] = held[0].sIn();
                scales[2] = held[0].sOut();
            }
            MemorySegment.copy(held[0].signs().segment(), ValueLayout.JAVA_BYTE, row * rowBytes, bytes, 0, rowBytes);
            if (row == out - 1) {
                held[0] = null;
            }
        });
        w.addTensor(tensorName(layer, part, ROUTER), scaleType, new long[] {experts, in},
                (row, values) -> System.arraycopy(scales[0], (int) row * in, values, 0, in));
        w.addTensor(tensorName(layer, part, S_IN), scaleType, new long[] {experts, in},
                (row, values) -> System.arraycopy(scales[1], (int) row * in, values, 0, in));
        w.addTensor(tensorName(layer, part, S_OUT), scaleType, new long[] {experts, out}, (row, values) -> {
            System.arraycopy(scales[2], (int) row * out, values, 0, out);
            if (row == experts - 1) {
                scales[0] = scales[1] = scales[2] = null;
            }
        });
    }

    private static BinaryMosLinear checked(BinaryMosLinear linear, int layer, Part part, int out, int in, int experts) {
        if (linear.outFeatures() != out || linear.inFeatures() != in || linear.experts() != experts) {
            throw new IllegalStateException("linear " + part + " of layer " + layer + " is [" + linear.outFeatures() + ", "
                    + linear.inFeatures() + "] with " + linear.experts() + " experts, expected [" + out + ", " + in + "] with " + experts);
        }
        return linear;
    }

    /**
     * Writes a BinaryMoS GGUF with the embeddings, norms and classifier of {@code base} (in their stored
     * types; the classifier is left out when it is the embedding table) and the block linears that
     * {@code linears} gives for (layer, part), asked for one at a time while writing.
     *
     * @param progress told of linears done out of all
     */
    public static void write(Llama base, int experts, BiFunction<Integer, Part, BinaryMosLinear> linears, String name,
                             GgmlType scaleType, Path file, ProgressListener progress) throws IOException {
        Configuration c = base.config();
        GgufWriter w = writer(c, base.tokenizer(), name, experts);
        FloatTensor embeddings = base.weights().tokenEmbeddings();
        addFloats(w, GgufModel.embeddingsName(), embeddings, c.vocabSize(), c.dim());
        long total = (long) c.layers() * Part.linears().size();
        long[] done = {0};
        for (int l = 0; l < c.layers(); l++) {
            LayerWeights layer = base.weights().layers()[l];
            for (Part part : Part.values()) {
                int index = l;
                switch (part) {
                    case ATTN_NORM -> w.addTensor(GgufModel.tensorName(l, part), GgmlType.F32, new long[] {c.dim()}, layer.attnNorm());
                    case FFN_NORM -> w.addTensor(GgufModel.tensorName(l, part), GgmlType.F32, new long[] {c.dim()}, layer.ffnNorm());
                    default -> {
                        Linear shape = LlamaTensors.linear(layer, part);
                        addLinear(w, l, part, shape.outFeatures(), shape.inFeatures(), experts, scaleType, () -> {
                            BinaryMosLinear linear = linears.apply(index, part);
                            progress.update(++done[0], total);
                            return linear;
                        });
                    }
                }
            }
        }
        w.addTensor(GgufModel.finalNormName(), GgmlType.F32, new long[] {c.dim()}, base.weights().finalNorm());
        if (!(base.weights().classifier() instanceof DenseLinear classifier)) {
            throw new IllegalArgumentException("the classifier must be a dense tensor, found " + base.weights().classifier().getClass().getSimpleName());
        }
        if (classifier.weights() != embeddings) {
            addFloats(w, GgufModel.classifierName(), classifier.weights(), c.vocabSize(), c.dim());
        }
        w.write(file);
    }

    /** A [rows, cols] tensor in its own storage type (dequantised and encoded again, which is exact). */
    private static void addFloats(GgufWriter w, String name, FloatTensor t, int rows, int cols) {
        w.addTensor(name, t.type(), new long[] {rows, cols}, (row, values) -> t.copyTo(row * cols, values, 0, cols));
    }

    /**
     * The size of a file's BinaryMoS linears.
     *
     * @param weights    logical weights Σ out·in
     * @param signBytes  bytes of packed signs (1 bit per weight plus row padding)
     * @param scaleBytes bytes of routers, S_in and S_out
     */
    public record LinearSize(long weights, long signBytes, long scaleBytes) {
        public double bitsPerWeight() {
            return 8.0 * (signBytes + scaleBytes) / weights;
        }

        public double signBitsPerWeight() {
            return 8.0 * signBytes / weights;
        }
    }

    /** The size of the BinaryMoS linears among a file's tensors (all zero when it has none). */
    public static LinearSize linearSize(List<TensorEntry> tensors) {
        Map<String, TensorEntry> byName = new HashMap<>();
        tensors.forEach(t -> byName.put(t.name(), t));
        long weights = 0;
        long signBytes = 0;
        long scaleBytes = 0;
        for (TensorEntry t : tensors) {
            if (!t.name().endsWith(SIGNS)) {
                continue;
            }
            String base = t.name().substring(0, t.name().length() - SIGNS.length());
            TensorEntry sIn = byName.get(base + S_IN);
            if (sIn != null && sIn.shape().length == 2 && t.shape().length == 2) {
                weights += t.shape()[0] * sIn.shape()[1];
                signBytes += t.bytes();
                for (String suffix : new String[] {ROUTER, S_IN, S_OUT}) {
                    TensorEntry scale = byName.get(base + suffix);
                    scaleBytes += scale == null ? 0 : scale.bytes();
                }
            }
        }
        return new LinearSize(weights, signBytes, scaleBytes);
    }
}
