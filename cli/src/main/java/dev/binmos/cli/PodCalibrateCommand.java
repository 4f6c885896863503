package dev.binmos.cli;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.format.gguf.GgufEdit;
import dev.binmos.engine.generate.Perplexity;
import dev.binmos.engine.kv.PodCalibration;
import dev.binmos.engine.kv.PodGroups;
import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.kv.PodMode;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.train.TeacherSamples;
import dev.binmos.engine.util.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "pod-calibrate", mixinStandardHelpOptions = true,
        description = "Groups layers for PoD attention by how alike their attention is (Jensen-Shannon), and writes the model as GGUF "
                + "with the groups, sinks and window in its pod.* metadata.")
final class PodCalibrateCommand implements Callable<Integer> {
    /** Metadata key of the similarity threshold the groups were made with (for the record). */
    static final String THRESHOLD = "pod.calibration.threshold";

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--out", required = true, description = "GGUF file to write (a copy of the model with pod.* metadata).")
    Path out;

    @Option(names = "--samples", defaultValue = "8", description = "Teacher-generated sequences to calibrate on (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--length", description = "Tokens per sequence (default: the context length, at most 512).")
    Integer length;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the teacher samples (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--text", description = "Calibrate on this text instead (pieces split on <|endoftext|>, each cut to --length).")
    Path text;

    @Option(names = "--probes", defaultValue = "16", description = "Last positions of each sequence whose attention is compared (default: ${DEFAULT-VALUE}).")
    int probes;

    @Option(names = "--granularity", defaultValue = "kv-head", description = "kv-head (a grouping per kv head) or layer (default: ${DEFAULT-VALUE}).")
    String granularity;

    @Option(names = "--threshold", defaultValue = "0.5", description = "Merge a layer into the group below while similarity (1 - JSD) >= this (default: ${DEFAULT-VALUE}).")
    double threshold;

    @Option(names = "--anchors", split = ",", description = "Forced anchor layers, e.g. the first layer of every pipeline stage: 0,16.")
    int[] anchors = {};

    @Option(names = "--sinks", defaultValue = "16", description = "Attention sinks S written to the metadata (default: ${DEFAULT-VALUE}).")
    int sinks;

    @Option(names = "--window", description = "Recent window W written to the metadata (default: the context length / 8).")
    Integer window;

    @Option(names = "--mode", defaultValue = "shared-keys", description = "shared-keys or shared-scores (default: ${DEFAULT-VALUE}).")
    String mode;

    @Override
    public Integer call() throws IOException {
        Llama model = modelOptions.load();
        int context = model.config().contextLength();
        int n = length != null ? length : Math.min(context, 512);
        PodLayout layout = new PodLayout(sinks, window != null ? window : Math.max(1, context / 8), PodMode.parse(mode),
                PodGroups.separate(model.config().layers(), model.config().kvHeads()));
        PodCalibration calibration = new PodCalibration(model.config(), PodCalibration.Granularity.parse(granularity), probes);
        try (Parallel parallel = modelOptions.parallel()) {
            List<int[]> sequences;
            if (text != null) {
                sequences = pieces(model, Files.readString(text), n);
            } else {
                try (Progress progress = new Progress("teacher samples", "sequences")) {
                    sequences = Arrays.asList(TeacherSamples.sequences(model, samples, n, seed, parallel, progress::update));
                }
            }
            CpuBackend backend = new CpuBackend(model, parallel); // not closed: the pool is closed above
            try (Progress progress = new Progress("calibration", "sequences")) {
                for (int i = 0; i < sequences.size(); i++) {
                    calibration.add(backend, sequences.get(i));
                    progress.update(i + 1, sequences.size());
                }
            }
        }
        PodGroups groups = calibration.groups(threshold, anchors);
        layout = new PodLayout(layout.sinks(), layout.window(), layout.mode(), groups);
        print(calibration.similarity(), layout, n);
        Map<String, Object> metadata = new LinkedHashMap<>(layout.metadata());
        metadata.put(THRESHOLD, threshold);
        GgufEdit.withMetadata(model, metadata, out);
        System.out.printf("wrote %s%n", out);
        return 0;
    }

    /** BOS + tokens of every piece with more tokens than probes, cut to n. */
    private List<int[]> pieces(Llama model, String content, int n) {
        List<int[]> sequences = new ArrayList<>();
        for (String piece : content.split(java.util.regex.Pattern.quote(Perplexity.SEPARATOR))) {
            int[] tokens = model.tokenizer().encode(piece.strip(), true, false);
            if (tokens.length > probes) {
                sequences.add(Arrays.copyOf(tokens, Math.min(n, tokens.length)));
            }
        }
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException(text + " has no piece longer than --probes " + probes + " tokens");
        }
        return sequences;
    }

    private static void print(double[][] similarity, PodLayout layout, int t) {
        System.out.println("similarity to the layer below (1 - JSD), layers 1.." + similarity[0].length + ":");
        for (int u = 0; u < similarity.length; u++) {
            StringBuilder row = new StringBuilder(similarity.length == 1 ? "  all heads " : String.format("  kv head %-2d", u));
            for (double s : similarity[u]) {
                row.append(String.format(Locale.ROOT, " %.3f", s));
            }
            System.out.println(row);
        }
        double f = layout.groups().borrowingShare();
        System.out.printf(Locale.ROOT, "groups %s (%s), sinks %d, window %d%n", layout.groups(), layout.mode().label(), layout.sinks(), layout.window());
        System.out.printf(Locale.ROOT, "%.1f%% of layer-kv-heads borrow keys: KV saving at %d tokens about f(T - S - W)/(2T) = %.1f%%%n",
                100 * f, t, 100 * f * Math.max(0, t - layout.sinks() - layout.window()) / (2.0 * t));
    }
}
