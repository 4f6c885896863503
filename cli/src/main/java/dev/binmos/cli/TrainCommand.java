package dev.binmos.cli;

import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.format.gguf.BinaryMosGguf;
import dev.binmos.engine.kv.PodGroups;
import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.kv.PodMode;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.tensor.GgmlType;
import dev.binmos.engine.train.TeacherSamples;
import dev.binmos.engine.train.TextSequences;
import dev.binmos.engine.train.TrainOptions;
import dev.binmos.engine.train.Trainer;
import dev.binmos.engine.util.Json;
import dev.binmos.engine.util.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Distils a full-precision model into a BinaryMoS student (KL + λ·hidden-state MSE, AdamW, cosine "
                + "schedule) on sequences sampled from the model itself, and writes the student as a BinaryMoS GGUF."})
final class TrainCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--out", required = true, description = "BinaryMoS GGUF to write at the end.")
    Path out;

    @Option(names = "--experts", defaultValue = "4", description = "Experts per linear (default: ${DEFAULT-VALUE}).")
    int experts;

    @Option(names = "--init", defaultValue = "svd", description = "Initial scales: svd (rank-1 SVD of |W|, as binarize) or mean-abs "
            + "(S_in = 1, S_out = mean|W|) (default: ${DEFAULT-VALUE}).")
    String init;

    @Option(names = "--steps", defaultValue = "2000", description = "Optimizer steps; 0 writes the initial student (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch", defaultValue = "8", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq-len", defaultValue = "256", description = "Tokens per training sequence (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--lr", defaultValue = "" + TrainOptions.DEFAULT_LR, description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--warmup", defaultValue = "0.03", description = "Share of steps warming up (default: ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--weight-decay", defaultValue = "0", description = "AdamW weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--clip", defaultValue = "1", description = "Global gradient norm clip; 0 is off (default: ${DEFAULT-VALUE}).")
    double clip;

    @Option(names = "--lambda", defaultValue = "10", description = "Weight of the hidden-state MSE (default: ${DEFAULT-VALUE}).")
    double lambda;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the routers (as binarize --seed) and of the data order (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--samples", defaultValue = "2048", description = "Sequences sampled from the model at temperature 1 (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--sample-seed", defaultValue = "1", description = "Seed of the sampled sequences (default: ${DEFAULT-VALUE}).")
    long sampleSeed;

    @Option(names = "--text", description = "UTF-8 text to train on as well, split on <|endoftext|> and cut into --seq-len sequences.")
    Path text;

    @Option(names = "--cache-dir", defaultValue = ".cache/train", description = "Where sampled sequences are kept for later runs (default: ${DEFAULT-VALUE}).")
    Path cacheDir;

    @Option(names = "--checkpoint", description = "Checkpoint file (default: the --out file with .ckpt appended).")
    Path checkpoint;

    @Option(names = "--checkpoint-every", defaultValue = "500", description = "Steps between checkpoints; 0 saves only at the end (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--resume", description = "Continue from the checkpoint (same options and data).")
    boolean resume;

    @Option(names = "--pod-groups", description = "Train with PoD attention over these layer groups, e.g. 0,1-2,3-4 (the first layer of a "
            + "group is its anchor; ';' separates one grouping per kv head). Default: the model's pod.* metadata, else dense attention.")
    String podGroups;

    @Option(names = "--pod-sinks", description = "PoD: the first S positions are always proximal. Default: the model's, else 16.")
    Integer podSinks;

    @Option(names = "--pod-window", description = "PoD: the last W positions up to a query are proximal. Default: the model's.")
    Integer podWindow;

    @Option(names = "--pod-mode", description = "PoD: shared-keys or shared-scores. Default: the model's, else shared-keys.")
    String podMode;

    @Option(names = "--scale-type", defaultValue = "f32", description = "Storage of routers and scales in --out: f32, f16 or bf16 (default: ${DEFAULT-VALUE}).")
    String scaleType;

    @Option(names = "--json", description = "Print a JSON summary (final losses, file size, bits per weight) instead of text.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        Llama model = modelOptions.load();
        TrainOptions options = new TrainOptions(experts, init(), steps, batch, lr, warmup, weightDecay, clip, lambda, seed, pod(model));
        GgmlType scales = scaleType();
        Path ckpt = checkpoint != null ? checkpoint : out.resolveSibling(out.getFileName() + ".ckpt");
        try (Parallel parallel = modelOptions.parallel()) {
            int[][] data = steps == 0 ? new int[0][] : data(model, parallel);
            Trainer trainer = new Trainer(model, options, data, parallel);
            if (resume) {
                trainer.resume(ckpt);
            }
            int first = trainer.step();
            double[] last = new double[2];
            long[] tokens = {0};
            long start = System.nanoTime();
            try (Progress progress = new Progress("train", "steps")) {
                trainer.train(ckpt, checkpointEvery, (step, total, s) -> {
                    tokens[0] += s.tokens();
                    last[0] = s.kl();
                    last[1] = s.mse();
                    double rate = tokens[0] / ((System.nanoTime() - start) / 1e9);
                    progress.update(step - first, total - first, String.format(Locale.ROOT, "%skl %.4f, mse %.4f, %.0f tokens/s",
                            first > 0 ? "resumed at step " + first + ", " : "", s.kl(), s.mse(), rate));
                });
            }
            Files.createDirectories(out.toAbsolutePath().getParent());
            Path partial = out.resolveSibling(out.getFileName() + ".partial");
            String name = model.source().path().getFileName().toString().replaceFirst("\\.(gguf|bin)$", "") + "-binarymos-e" + experts;
            try (Progress progress = new Progress("write", "linears")) {
                trainer.writeModel(partial, name, scales, progress);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(partial);
                throw e;
            }
            Files.move(partial, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            report(trainer, last, (System.nanoTime() - start) / 1e9, tokens[0], data.length);
        }
        return 0;
    }

    private int[][] data(Llama model, Parallel parallel) throws IOException {
        int[][] sampled = new int[0][];
        if (samples > 0) {
            try (Progress progress = new Progress("sample", "sequences")) {
                sampled = TeacherSamples.cached(cacheDir, model, samples, seqLen, sampleSeed, parallel, progress);
            }
        }
        int[][] fromText = text == null ? new int[0][] : TextSequences.of(model.tokenizer(), Files.readString(text), seqLen);
        int[][] all = Arrays.copyOf(sampled, sampled.length + fromText.length);
        System.arraycopy(fromText, 0, all, sampled.length, fromText.length);
        if (all.length == 0) {
            throw new IllegalArgumentException("no training data: --samples is 0 and " + (text == null ? "no --text is given"
                    : text + " has fewer than --seq-len " + seqLen + " tokens"));
        }
        return all;
    }

    private void report(Trainer trainer, double[] last, double seconds, long tokens, int sequences) {
        Llama written = ModelLoader.load(out, modelOptions.tokenizer);
        BinaryMosGguf.LinearSize size = BinaryMosGguf.linearSize(written.source().tensors());
        long bytes;
        try {
            bytes = Files.size(out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        if (json) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("out", out.toString());
            result.put("steps", (long) trainer.step());
            result.put("kl", last[0]);
            result.put("mse", last[1]);
            result.put("sequences", (long) sequences);
            result.put("seconds", seconds);
            result.put("tokens_per_second", tokens / seconds);
            result.put("bytes", bytes);
            result.put("linear_bits_per_weight", size.bitsPerWeight());
            System.out.println(Json.write(result));
        } else {
            System.out.printf(Locale.ROOT, "trained %d steps on %d sequences (%.0f tokens/s this run), last kl %.4f, mse %.4f%n",
                    trainer.step(), sequences, seconds > 0 ? tokens / seconds : 0, last[0], last[1]);
            System.out.printf(Locale.ROOT, "wrote %s: %d experts, linears %.4f bits per weight (signs %.4f + routers and scales %.4f), file %s%n",
                    out, experts, size.bitsPerWeight(), size.signBitsPerWeight(), size.bitsPerWeight() - size.signBitsPerWeight(),
                    InspectCommand.bytes(bytes));
        }
    }

    private TrainOptions.Init init() {
        return switch (init.toLowerCase(Locale.ROOT)) {
            case "svd" -> TrainOptions.Init.SVD;
            case "mean-abs" -> TrainOptions.Init.MEAN_ABS;
            default -> throw new IllegalArgumentException("unknown --init " + init + "; choose svd or mean-abs");
        };
    }

    /** The PoD layout to train with, as the inference commands choose it: the flags over the model's pod.* metadata. */
    private PodLayout pod(Llama model) {
        Optional<PodLayout> own = PodLayout.fromMetadata(model.source().metadata(), model.config());
        if (podGroups == null && own.isEmpty()) {
            if (podSinks != null || podWindow != null || podMode != null) {
                throw new IllegalArgumentException("--pod-sinks, --pod-window and --pod-mode need --pod-groups (the model has no pod.* layout)");
            }
            return null;
        }
        return new PodLayout(podSinks != null ? podSinks : own.map(PodLayout::sinks).orElse(PodLayout.DEFAULT_SINKS),
                podWindow != null ? podWindow : own.map(PodLayout::window).orElseThrow(
                        () -> new IllegalArgumentException("--pod-groups needs --pod-window")),
                podMode != null ? PodMode.parse(podMode.toLowerCase(Locale.ROOT)) : own.map(PodLayout::mode).orElse(PodMode.SHARED_KEYS),
                podGroups != null ? PodGroups.parse(podGroups, model.config().layers(), model.config().kvHeads()) : own.get().groups());
    }

    private GgmlType scaleType() {
        return switch (scaleType.toLowerCase(Locale.ROOT)) {
            case "f32" -> GgmlType.F32;
            case "f16" -> GgmlType.F16;
            case "bf16" -> GgmlType.BF16;
            default -> throw new IllegalArgumentException("unknown --scale-type " + scaleType + "; choose f32, f16 or bf16");
        };
    }
}
