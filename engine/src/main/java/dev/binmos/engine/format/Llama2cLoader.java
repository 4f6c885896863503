package dev.binmos.engine.format;

import dev.binmos.engine.linear.DenseLinear;
import dev.binmos.engine.linear.Linear;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.LayerWeights;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.model.ModelSource;
import dev.binmos.engine.model.TensorEntry;
import dev.binmos.engine.model.Weights;
import dev.binmos.engine.tensor.F32Tensor;
import dev.binmos.engine.tensor.FloatTensor;
import dev.binmos.engine.tensor.GgmlType;
import dev.binmos.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * llama2.c checkpoints: seven int32 hyper-parameters, then F32 tensors in a fixed order. A negative
 * vocabulary size means the classifier is stored after the (unused) RoPE tables instead of shared with
 * the embeddings.
 */
public final class Llama2cLoader {
    private static final int HEADER_BYTES = 7 * 4;
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Llama2cLoader() {
    }

    /**
     * @param tokenizer llama2.c tokenizer file; null looks beside the model for {@code tok<vocab>.bin},
     *                  then {@code tokenizer.bin}
     */
    public static Llama load(Path file, Path tokenizer) {
        MemorySegment data;
        try {
            data = Mapped.map(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model " + file + ": " + e.getMessage(), e);
        }
        if (data.byteSize() < HEADER_BYTES) {
            throw new ModelFormatException(file, "header", "file has " + data.byteSize() + " bytes, a llama2.c header needs " + HEADER_BYTES);
        }
        int[] h = new int[7];
        for (int i = 0; i < 7; i++) {
            h[i] = data.get(LE_INT, i * 4L);
        }
        boolean shared = h[5] > 0;
        int vocab = Math.abs(h[5]);
        Configuration config;
        try {
            config = new Configuration(h[0], h[1], h[2], h[3], h[4], vocab, h[6], 10000f, 1e-5f);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, "header", e.getMessage() + " (not a llama2.c checkpoint?)");
        }
        Reader r = new Reader(file, data);
        int dim = config.dim();
        int kvDim = config.kvDim();
        int hidden = config.hiddenDim();
        int layers = config.layers();
        FloatTensor embeddings = r.tensor("token_embedding_table", vocab, dim);
        F32Tensor[] attnNorm = r.stack("rms_att_weight", layers, 1, dim);
        F32Tensor[] wq = r.stack("wq", layers, dim, dim);
        F32Tensor[] wk = r.stack("wk", layers, kvDim, dim);
        F32Tensor[] wv = r.stack("wv", layers, kvDim, dim);
        F32Tensor[] wo = r.stack("wo", layers, dim, dim);
        F32Tensor[] ffnNorm = r.stack("rms_ffn_weight", layers, 1, dim);
        F32Tensor[] w1 = r.stack("w1", layers, hidden, dim);
        F32Tensor[] w2 = r.stack("w2", layers, dim, hidden);
        F32Tensor[] w3 = r.stack("w3", layers, hidden, dim);
        float[] finalNorm = r.tensor("rms_final_weight", dim).toFloatArray();
        r.skip("freq_cis", (long) config.contextLength() * config.headSize());
        Linear classifier = new DenseLinear(shared ? embeddings : r.tensor("wcls", vocab, dim), vocab, dim);
        if (r.offset != data.byteSize()) {
            throw new ModelFormatException(file, "size", data.byteSize() + " bytes, the header's shapes need " + r.offset);
        }
        LayerWeights[] blocks = new LayerWeights[layers];
        for (int l = 0; l < layers; l++) {
            blocks[l] = new LayerWeights(attnNorm[l].toFloatArray(),
                    new DenseLinear(wq[l], dim, dim), new DenseLinear(wk[l], kvDim, dim),
                    new DenseLinear(wv[l], kvDim, dim), new DenseLinear(wo[l], dim, dim),
                    ffnNorm[l].toFloatArray(),
                    new DenseLinear(w1[l], hidden, dim), new DenseLinear(w3[l], hidden, dim),
                    new DenseLinear(w2[l], dim, hidden));
        }
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("shared_classifier", shared);
        Tokenizer tok = Tokenizer.fromLlama2c(tokenizer != null ? tokenizer : findTokenizer(file, vocab), vocab);
        return new Llama(config, tok, new Weights(embeddings, blocks, finalNorm, classifier),
                new ModelSource(file, "llama2c", metadata, List.copyOf(r.entries)));
    }

    private static Path findTokenizer(Path model, int vocab) {
        Path dir = model.toAbsolutePath().getParent();
        for (String name : new String[] {"tok" + vocab + ".bin", "tokenizer.bin"}) {
            Path candidate = dir.resolve(name);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("no tokenizer for " + model + ": pass --tokenizer (looked for tok" + vocab + ".bin and tokenizer.bin beside it)");
    }

    /** Walks the file in order, checking every tensor fits before mapping it. */
    private static final class Reader {
        final Path file;
        final MemorySegment data;
        final List<TensorEntry> entries = new ArrayList<>();
        long offset = HEADER_BYTES;

        Reader(Path file, MemorySegment data) {
            this.file = file;
            this.data = data;
        }

        F32Tensor tensor(String name, long... shape) {
            long elements = 1;
            long bytes;
            try {
                for (long d : shape) {
                    elements = Math.multiplyExact(elements, d);
                }
                bytes = Math.multiplyExact(elements, 4L);
            } catch (ArithmeticException e) {
                throw new ModelFormatException(file, name, "shape " + java.util.Arrays.toString(shape) + " is too large");
            }
            if (offset + bytes > data.byteSize()) {
                throw new ModelFormatException(file, name, "needs " + bytes + " bytes at offset " + offset + ", the file has " + data.byteSize() + " (truncated, or not a llama2.c checkpoint)");
            }
            F32Tensor t = new F32Tensor(data.asSlice(offset, bytes), elements);
            entries.add(new TensorEntry(name, GgmlType.F32, shape, bytes));
            offset += bytes;
            return t;
        }

        /** A tensor of shape [layers, rows, cols] as one view per layer. */
        F32Tensor[] stack(String name, int layers, long rows, long cols) {
            long start = offset;
            tensor(name, layers, rows, cols);
            long bytes = rows * cols * 4;
            F32Tensor[] perLayer = new F32Tensor[layers];
            for (int l = 0; l < layers; l++) {
                perLayer[l] = new F32Tensor(data.asSlice(start + l * bytes, bytes), rows * cols);
            }
            return perLayer;
        }

        void skip(String name, long elements) {
            offset += elements * 4;
            if (offset > data.byteSize()) {
                throw new ModelFormatException(file, name, "file ends before offset " + offset);
            }
        }
    }
}
