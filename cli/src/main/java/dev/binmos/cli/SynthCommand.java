package dev.binmos.cli;

import dev.binmos.engine.binarymos.BinaryMosLinear;
import dev.binmos.engine.binarymos.PackedSigns;
import dev.binmos.engine.format.LlamaTensors.Part;
import dev.binmos.engine.format.RowSource;
import dev.binmos.engine.format.gguf.BinaryMosGguf;
import dev.binmos.engine.format.gguf.GgufModel;
import dev.binmos.engine.format.gguf.GgufWriter;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.tensor.GgmlType;
import dev.binmos.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Writes a GGUF model with random weights of real shapes, deterministic from the seed (for benchmarks).")
final class SynthCommand implements Callable<Integer> {
    /** Shapes of public models: dim, hidden, layers, heads, kv heads, vocab, context. */
    static final Map<String, Configuration> SHAPES = Map.of(
            "llama2-7b", new Configuration(4096, 11008, 32, 32, 32, 32000, 4096, 10000f, 1e-5f),
            "llama2-13b", new Configuration(5120, 13824, 40, 40, 40, 32000, 4096, 10000f, 1e-5f),
            "tinyllama-1.1b", new Configuration(2048, 5632, 22, 32, 4, 32000, 2048, 10000f, 1e-5f),
            "stories15m", new Configuration(288, 768, 6, 6, 6, 32000, 256, 10000f, 1e-5f),
            "stories260k", new Configuration(64, 172, 5, 8, 4, 512, 512, 10000f, 1e-5f));

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Option(names = "--shape", required = true, description = "One of: llama2-7b, llama2-13b, tinyllama-1.1b, stories15m, stories260k.")
    String shape;

    @Option(names = "--layers", description = "Decoder blocks (default: the shape's).")
    Integer layers;

    @Option(names = "--context", description = "Context length (default: the shape's).")
    Integer context;

    @Option(names = "--format", required = true, description = "Weight storage: f32, f16, bf16, q8_0 (norms stay f32), "
            + "or binarymos (packed signs, f16 routers and scales, f16 embeddings and classifier).")
    String format;

    @Option(names = "--experts", defaultValue = "4", description = "Experts per linear for --format binarymos (default: ${DEFAULT-VALUE}).")
    int experts;

    @Option(names = "--tokenizer", required = true, description = "llama2.c tokenizer file with the shape's vocabulary size (stored in the GGUF).")
    Path tokenizer;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, description = "GGUF file to write.")
    Path out;

    @Override
    public Integer call() throws IOException {
        Configuration base = SHAPES.get(shape.toLowerCase(Locale.ROOT));
        if (base == null) {
            throw new IllegalArgumentException("unknown --shape " + shape + "; choose one of " + String.join(", ", SHAPES.keySet().stream().sorted().toList()));
        }
        boolean binaryMos = format.equalsIgnoreCase("binarymos");
        GgmlType type = switch (format.toLowerCase(Locale.ROOT)) {
            case "f32" -> GgmlType.F32;
            case "f16", "binarymos" -> GgmlType.F16;
            case "bf16" -> GgmlType.BF16;
            case "q8_0" -> GgmlType.Q8_0;
            default -> throw new IllegalArgumentException("unknown --format " + format + "; choose f32, f16, bf16, q8_0 or binarymos");
        };
        Configuration c = new Configuration(base.dim(), base.hiddenDim(), layers == null ? base.layers() : layers,
                base.heads(), base.kvHeads(), base.vocabSize(), context == null ? base.contextLength() : context,
                base.ropeTheta(), base.normEps());
        Tokenizer tok = Tokenizer.fromLlama2c(tokenizer, c.vocabSize());
        String name = shape + "-synthetic-" + c.layers() + "L-" + format.toLowerCase(Locale.ROOT);
        GgufWriter w = binaryMos ? BinaryMosGguf.writer(c, tok, name, experts) : GgufModel.writer(c, tok, name);
        AtomicLong rowsDone = new AtomicLong();
        long[] totalRows = {0};
        try (Progress progress = new Progress("synth", "rows")) {
            Adder add = (tensorName, tensorType, rows, cols, normal) -> {
                totalRows[0] += rows;
                // a row length that is not whole Q8_0 blocks falls back to F16, as llama.cpp does
                GgmlType stored = cols % tensorType.blockSize == 0 ? tensorType : GgmlType.F16;
                w.addTensor(tensorName, stored, rows == 1 ? new long[] {cols} : new long[] {rows, cols},
                        random(tensorName, normal, cols, rowsDone, totalRows, progress));
            };
            LinearAdder linear = (layer, part, rows, cols) -> {
                if (!binaryMos) {
                    add.tensor(GgufModel.tensorName(layer, part), type, rows, cols, false);
                    return;
                }
                totalRows[0] += rows;
                String tensorName = BinaryMosGguf.tensorName(layer, part, BinaryMosGguf.SIGNS);
                BinaryMosGguf.addLinear(w, layer, part, rows, cols, experts, GgmlType.F16, () -> {
                    BinaryMosLinear random = randomBinaryMos(tensorName, rows, cols);
                    progress.update(rowsDone.addAndGet(rows), totalRows[0]);
                    return random;
                });
            };
            add.tensor(GgufModel.embeddingsName(), type, c.vocabSize(), c.dim(), false);
            for (int l = 0; l < c.layers(); l++) {
                add.tensor(GgufModel.tensorName(l, Part.ATTN_NORM), GgmlType.F32, 1, c.dim(), true);
                linear.add(l, Part.Q, c.dim(), c.dim());
                linear.add(l, Part.K, c.kvDim(), c.dim());
                linear.add(l, Part.V, c.kvDim(), c.dim());
                linear.add(l, Part.O, c.dim(), c.dim());
                add.tensor(GgufModel.tensorName(l, Part.FFN_NORM), GgmlType.F32, 1, c.dim(), true);
                linear.add(l, Part.GATE, c.hiddenDim(), c.dim());
                linear.add(l, Part.UP, c.hiddenDim(), c.dim());
                linear.add(l, Part.DOWN, c.dim(), c.hiddenDim());
            }
            add.tensor(GgufModel.finalNormName(), GgmlType.F32, 1, c.dim(), true);
            add.tensor(GgufModel.classifierName(), type, c.vocabSize(), c.dim(), false);
            Path parent = out.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path partial = parent.resolve(out.getFileName() + ".partial");
            w.write(partial);
            Files.move(partial, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        System.out.printf("wrote %s: %s, %d layers, %s, %s%n", out, shape, c.layers(), format, InspectCommand.bytes(Files.size(out)));
        return 0;
    }

    @FunctionalInterface
    private interface Adder {
        void tensor(String name, GgmlType type, long rows, int cols, boolean normWeight);
    }

    @FunctionalInterface
    private interface LinearAdder {
        void add(int layer, Part part, int rows, int cols);
    }

    /**
     * A BinaryMoS layer of random signs (padding bits zero), positive S_in around 1, S_out around 1/√cols
     * (so activations keep their scale) and a ±1/√cols router; seeded from (seed, tensor): deterministic.
     */
    private BinaryMosLinear randomBinaryMos(String tensorName, int rows, int cols) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ tensorName.hashCode());
        int wordsPerRow = PackedSigns.wordsPerRow(cols);
        long lastWordMask = cols % Long.SIZE == 0 ? -1L : (1L << cols % Long.SIZE) - 1;
        MemorySegment words = MemorySegment.ofArray(new long[rows * wordsPerRow]);
        for (int o = 0; o < rows; o++) {
            for (int j = 0; j < wordsPerRow; j++) {
                long word = r.nextLong() & (j == wordsPerRow - 1 ? lastWordMask : -1L);
                words.setAtIndex(LE_LONG, (long) o * wordsPerRow + j, word);
            }
        }
        float bound = (float) (1 / Math.sqrt(cols));
        float[] router = new float[experts * cols];
        float[] sIn = new float[experts * cols];
        float[] sOut = new float[experts * rows];
        for (int i = 0; i < router.length; i++) {
            router[i] = (r.nextFloat() * 2 - 1) * bound;
            sIn[i] = 0.5f + r.nextFloat();
        }
        for (int i = 0; i < sOut.length; i++) {
            sOut[i] = (0.5f + r.nextFloat()) * bound;
        }
        return new BinaryMosLinear(new PackedSigns(rows, cols, words), router, sIn, sOut, experts);
    }

    /**
     * Rows of uniform noise with variance 1/cols, so activations keep their scale through each product;
     * norm weights are 1. Each row has its own generator seeded from (seed, tensor, row): deterministic.
     */
    private RowSource random(String tensorName, boolean normWeight, int cols, AtomicLong done, long[] total, Progress progress) {
        long tensorSeed = seed * 0x9E3779B97F4A7C15L ^ tensorName.hashCode();
        float bound = (float) Math.sqrt(3.0 / cols);
        return (row, values) -> {
            if (normWeight) {
                Arrays.fill(values, 1f);
            } else {
                SplittableRandom r = new SplittableRandom(tensorSeed + row * 0xBF58476D1CE4E5B9L);
                for (int i = 0; i < values.length; i++) {
                    values[i] = (r.nextFloat() * 2 - 1) * bound;
                }
            }
            progress.update(done.incrementAndGet(), total[0]);
        };
    }
}
