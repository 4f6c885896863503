package dev.binmos.cli;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.generate.Completion;
import dev.binmos.engine.generate.Generation;
import dev.binmos.engine.generate.Generator;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.sampling.SamplingParams;
import dev.binmos.engine.util.Json;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continues a prompt. Streams the text to stdout, or prints one JSON object with --json.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    KvOptions kvOptions;

    @Option(names = "--prompt", required = true, description = "Prompt text (BOS is added).")
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "256", description = "Tokens to generate at most (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 is greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Keep the k most likely tokens; 0 is off.")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus sampling; 1 is off.")
    float topP;

    @Option(names = "--min-p", defaultValue = "0", description = "Drop tokens less likely than min-p times the most likely; 0 is off.")
    float minP;

    @Option(names = "--repetition-penalty", defaultValue = "1", description = "Penalty for tokens already seen; 1 is off.")
    float repetitionPenalty;

    @Option(names = "--seed", defaultValue = "42", description = "Sampling seed: the same seed gives the same output.")
    long seed;

    @Option(names = "--stop", description = "Stop string (repeatable); the output ends before it.")
    List<String> stop = new ArrayList<>();

    @Option(names = "--json", description = "Print {\"tokens\": [...], \"text\": ...} instead of streaming text.")
    boolean json;

    @Override
    public Integer call() {
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException("--prompt must not be empty");
        }
        Generation request = new Generation(maxTokens,
                new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed), stop);
        Llama model = modelOptions.load();
        int[] promptTokens = model.tokenizer().encode(prompt, true, false);
        int capacity = Math.min(model.config().contextLength(), promptTokens.length + maxTokens);
        if (promptTokens.length > model.config().contextLength()) {
            throw new IllegalArgumentException("the prompt has " + promptTokens.length + " tokens; the model's context is " + model.config().contextLength());
        }
        PrintStream out = System.out;
        KvPolicy policy = kvOptions.policy(model);
        try (CpuBackend backend = modelOptions.backend(model, policy)) {
            Session session = backend.openSession("cli", capacity);
            if (!json) {
                out.print(prompt);
                out.flush();
            }
            long start = System.nanoTime();
            Completion c = new Generator(backend, model.tokenizer()).generate(session, promptTokens, request, piece -> {
                if (!json) {
                    out.print(piece);
                    out.flush();
                }
            });
            double seconds = (System.nanoTime() - start) / 1e9;
            if (json) {
                Map<String, Object> result = new LinkedHashMap<>();
                List<Object> ids = new ArrayList<>();
                for (int t : c.tokens()) {
                    ids.add((long) t);
                }
                result.put("tokens", ids);
                result.put("text", c.text());
                result.put("finish_reason", c.finishReason().name().toLowerCase());
                result.put("prompt_tokens", (long) c.promptTokens());
                result.put("kv_bytes", session.cache().bytes());
                result.put("kv_dense_bytes", session.cache().denseBytes());
                out.println(Json.write(result));
            } else {
                out.println();
                System.err.printf("%d prompt + %d generated tokens in %.2f s (%.1f tokens/s), finish: %s%n",
                        c.promptTokens(), c.tokens().length, seconds, (c.promptTokens() + c.tokens().length) / seconds,
                        c.finishReason().name().toLowerCase());
                System.err.println(KvOptions.describe(policy, session.cache().stats()));
            }
        }
        return 0;
    }
}
