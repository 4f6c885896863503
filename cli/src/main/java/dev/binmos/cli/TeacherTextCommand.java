package dev.binmos.cli;

import dev.binmos.engine.generate.Perplexity;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.train.TeacherSamples;
import dev.binmos.engine.util.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "teacher-text", mixinStandardHelpOptions = true,
        description = "Writes stories sampled from the model itself (temperature 1, seeded), separated by " + Perplexity.SEPARATOR
                + ": held-out text for perplexity.")
final class TeacherTextCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--count", defaultValue = "32", description = "Stories to sample (default: ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--length", description = "Tokens per story at most, BOS included (default: the context length, at most 512).")
    Integer length;

    @Option(names = "--seed", defaultValue = "1", description = "Sampling seed: the same seed gives the same text (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, description = "UTF-8 text file to write.")
    Path out;

    @Override
    public Integer call() throws IOException {
        Llama model = modelOptions.load();
        int n = length != null ? length : Math.min(model.config().contextLength(), 512);
        String text;
        try (Parallel parallel = modelOptions.parallel(); Progress progress = new Progress("teacher-text", "stories")) {
            text = TeacherSamples.stories(model, count, n, seed, parallel, progress::update);
        }
        Files.writeString(out, text);
        System.out.printf("wrote %s: %d stories, %d characters%n", out, text.split(java.util.regex.Pattern.quote(Perplexity.SEPARATOR)).length, text.length());
        return 0;
    }
}
