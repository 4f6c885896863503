package dev.binmos.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.binarymos.Binarizer;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.format.gguf.GgufEdit;
import dev.binmos.engine.generate.Completion;
import dev.binmos.engine.generate.Generation;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.kv.KvPrecision;
import dev.binmos.engine.kv.PodGroups;
import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.kv.PodMode;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.tensor.GgmlType;
import dev.binmos.engine.util.ProgressListener;
import dev.binmos.proto.v1.GenerateRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The suite on the product's own formats: stories260K binarized to BinaryMoS (E = 4) with PoD attention
 * whose groups (per kv head) start again at the stage boundary, split over workers [0, 2) and [2, 5).
 * Sinks 4 and window 16 make most of each sequence distant. Greedy results, alone and batched, equal the
 * single-process engine on the same file, and a stage holds the PoD cache's bytes, not a dense one's.
 */
class BinaryMosPodClusterTest {
    private static final String GROUPS = "0-1,2-4;0,1,2-4;0-1,2,3-4;0-1,2-4";
    private static final List<String> PROMPTS = List.of("Once upon a time", "Lily and Ben went to the park",
            "The little dog was sad because", "Sam found a box", "The sun was hot", "Mia had a kite");
    private static final int TOKENS = 80;

    @ParameterizedTest
    @EnumSource(PodMode.class)
    void twoStagesEqualTheEngine(PodMode mode) throws Exception {
        Path model = model(mode);
        try (Cluster cluster = Cluster.builder("binarymos-pod-" + mode.label()).model(model, "stories260K-binarymos-pod")
                .worker(0, 2).worker(2, 5).start();
             Reference reference = new Reference(model)) {
            // one request alone through the gateway's gRPC, one over its REST API, then all at once (batched steps)
            Gateway gateway = cluster.startGateway("gateway");
            String first = PROMPTS.getFirst();
            Streamed alone = Streamed.call(gateway.generation(), GenerateRequest.newBuilder().setPrompt(first).setMaxTokens(TOKENS).build());
            int[] prompt = reference.tokenizer().encode(first, true, false);
            Completion expected = reference.generate(prompt, Generation.greedy(TOKENS));
            assertArrayEquals(expected.tokens(), alone.tokenArray(), first);
            assertEquals(TOKENS, alone.tokens().size(), "no early stop: the sequence reaches far past sinks + window");

            // the finished session idles on every stage, holding prompt + tokens − 1 positions (the last token is not run)
            int held = prompt.length + TOKENS - 1;
            Llama llama = ModelLoader.load(model, null);
            KvPolicy pod = KvPolicy.of(llama);
            long podBytes = pod.footprint(llama.config(), 2, 5).bytes(held);
            long denseBytes = new KvPolicy.Dense(KvPrecision.F32).footprint(llama.config(), 2, 5).bytes(held);
            assertEquals(podBytes, cluster.status(cluster.worker(1)).getKvBytesUsed());
            assertTrue(podBytes < denseBytes, podBytes + " bytes with PoD, " + denseBytes + " dense");

            String second = PROMPTS.get(1);
            String restText = gateway.rest().contentType("application/json")
                    .body("{\"prompt\": \"" + second + "\", \"max_tokens\": " + TOKENS + ", \"temperature\": 0}")
                    .post("/v1/completions").then().statusCode(200).extract().jsonPath().getString("choices[0].text");
            assertEquals(reference.generate(reference.tokenizer().encode(second, true, false), Generation.greedy(TOKENS)).text(), restText, second);

            List<CompletableFuture<Streamed>> calls = PROMPTS.stream()
                    .map(text -> CompletableFuture.supplyAsync(() -> Streamed.call(cluster.generation(),
                            GenerateRequest.newBuilder().setPrompt(text).setMaxTokens(TOKENS).build()), Grpcs.CLIENT_THREADS))
                    .toList();
            for (int i = 0; i < PROMPTS.size(); i++) {
                Completion want = reference.generate(reference.tokenizer().encode(PROMPTS.get(i), true, false), Generation.greedy(TOKENS));
                Streamed got = calls.get(i).get(120, TimeUnit.SECONDS);
                assertArrayEquals(want.tokens(), got.tokenArray(), PROMPTS.get(i));
                assertEquals(want.text(), got.text(), PROMPTS.get(i));
            }
        }
    }

    /** stories260K binarized (SVD init, seeded routers), with a PoD layout in its metadata. */
    private static Path model(PodMode mode) throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "models"));
        Path binarized = dir.resolve("stories260K-binarymos-e4.gguf");
        if (!Files.exists(binarized)) {
            Path partial = dir.resolve("stories260K-binarymos-e4.gguf.partial");
            Binarizer.write(ModelLoader.load(TestModels.stories(), null), 4, 1, "stories260K-binarymos-e4", GgmlType.F32, partial, ProgressListener.NONE);
            Files.move(partial, binarized);
        }
        Llama llama = ModelLoader.load(binarized, null);
        PodLayout layout = new PodLayout(4, 16, mode, PodGroups.parse(GROUPS, llama.config().layers(), llama.config().kvHeads()));
        Path out = dir.resolve("stories260K-binarymos-e4-pod-" + mode.label() + ".gguf");
        GgufEdit.withMetadata(llama, layout.metadata(), out);
        return out;
    }
}
