package dev.binmos.cli;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.generate.Perplexity;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = "Perplexity of a text: pieces split on <|endoftext|>, each scored from BOS in windows of at most --context tokens.")
final class PerplexityCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    KvOptions kvOptions;

    @Option(names = "--text", required = true, description = "UTF-8 text file.")
    Path text;

    @Option(names = "--context", description = "Window length in tokens, BOS included (default: the model's context length).")
    Integer context;

    @Option(names = "--json", description = "Print {\"perplexity\": …, \"tokens\": …}.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        String content = Files.readString(text);
        Llama model = modelOptions.load();
        int window = context == null ? model.config().contextLength() : context;
        if (window > model.config().contextLength()) {
            throw new IllegalArgumentException("--context " + window + " exceeds the model's context length " + model.config().contextLength());
        }
        KvPolicy policy = kvOptions.policy(model);
        Perplexity.Result r;
        try (CpuBackend backend = modelOptions.backend(model, policy);
             Progress progress = new Progress("perplexity", "tokens")) {
            r = Perplexity.evaluate(backend, model.tokenizer(), content, window, progress::update);
        }
        if (json) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("perplexity", r.perplexity());
            result.put("tokens", r.tokens());
            result.put("kv_policy", policy.describe());
            result.put("kv_bytes", r.kv().bytes());
            result.put("kv_dense_bytes", r.kv().denseBytes());
            System.out.println(Json.write(result));
        } else {
            System.out.printf("perplexity %.4f over %d tokens (context %d)%n", r.perplexity(), r.tokens(), window);
            System.out.println(KvOptions.describe(policy, r.kv()) + " at the longest window");
        }
        return 0;
    }
}
