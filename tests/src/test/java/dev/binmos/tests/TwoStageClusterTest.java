package dev.binmos.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.generate.Completion;
import dev.binmos.engine.generate.Generation;
import dev.binmos.engine.sampling.SamplingParams;
import dev.binmos.proto.v1.FinishReason;
import dev.binmos.proto.v1.GenerateRequest;
import dev.binmos.proto.v1.GenerateResponse;
import dev.binmos.proto.v1.ListModelsRequest;
import dev.binmos.proto.v1.ModelInfo;
import dev.binmos.proto.v1.SamplingParameters;
import dev.binmos.proto.v1.TokenIds;
import dev.binmos.proto.v1.TokenizeRequest;
import dev.binmos.proto.v1.TokenizeResponse;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The suite on one router and two workers, layers [0, 2) and [2, 5) of stories260K, over gRPC with
 * F32 hidden states; prompts are prefilled in chunks of 16 tokens. One cluster for every test here.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TwoStageClusterTest {
    private static final int PREFILL_CHUNK = 16;

    private Cluster cluster;
    private Reference reference;

    @BeforeAll
    void start() {
        cluster = Cluster.builder("two-stages")
                .model(TestModels.stories(), "stories260K")
                .router("binmos.router.prefill-chunk", String.valueOf(PREFILL_CHUNK))
                // short, so that sessions of earlier tests are gone when one counts them
                .router("binmos.router.session-idle", "2s")
                .worker(0, 2)
                .worker(2, 5)
                .start();
        reference = new Reference(TestModels.stories());
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    private static GenerateRequest.Builder prompt(String text, int maxTokens) {
        return GenerateRequest.newBuilder().setPrompt(text).setMaxTokens(maxTokens);
    }

    private void assertSameAsEngine(int[] prompt, Generation generation, Streamed streamed) {
        Completion expected = reference.generate(prompt, generation);
        assertArrayEquals(expected.tokens(), streamed.tokenArray(), "tokens");
        assertEquals(expected.text(), streamed.text(), "text");
        assertEquals(expected.finishReason() == dev.binmos.engine.generate.FinishReason.STOP
                ? FinishReason.FINISH_REASON_STOP : FinishReason.FINISH_REASON_LENGTH, streamed.finished().getReason());
        assertEquals(prompt.length, streamed.finished().getUsage().getPromptTokens());
        assertEquals(expected.tokens().length, streamed.finished().getUsage().getCompletionTokens());
    }

    /** Results equal the single-process engine, token for token. */
    @Nested
    class EqualsSingleProcess {

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {"Once upon a time", "Lily and Ben went to the park", "The little dog was sad because"})
        void greedy(String text) {
            Streamed streamed = Streamed.call(cluster.generation(), prompt(text, 200).build());
            assertSameAsEngine(reference.tokenizer().encode(text, true, false), Generation.greedy(200), streamed);
        }

        @Test
        void greedyLongPromptIsPrefilledInChunks() throws Exception {
            String story = Files.readString(TestModels.shared().resolve("reference/tinystories_sample.txt"));
            String text = story.substring(0, 420);
            int[] tokens = reference.tokenizer().encode(text, true, false);
            assertTrue(tokens.length > 5 * PREFILL_CHUNK, "the prompt spans several prefill chunks: " + tokens.length);
            Streamed streamed = Streamed.call(cluster.generation(), prompt(text, 60).build());
            assertSameAsEngine(tokens, Generation.greedy(60), streamed);
        }

        @Test
        void sampledWithSeedAndStopString() {
            SamplingParameters sampling = SamplingParameters.newBuilder()
                    .setTemperature(0.9f).setTopK(40).setTopP(0.95f).setMinP(0.02f).setRepetitionPenalty(1.1f).setSeed(7).build();
            Streamed streamed = Streamed.call(cluster.generation(), prompt("Tom had a red ball", 120)
                    .setSampling(sampling).addStop("ball.").build());
            Generation generation = new Generation(120, new SamplingParams(0.9f, 40, 0.95f, 0.02f, 1.1f, 7), List.of("ball."));
            assertSameAsEngine(reference.tokenizer().encode("Tom had a red ball", true, false), generation, streamed);
        }

        @Test
        void tokenIdsAsInputAndLogprobs() {
            int[] ids = reference.tokenizer().encode("The cat", true, false);
            GenerateRequest.Builder request = GenerateRequest.newBuilder().setMaxTokens(20).setLogprobs(true)
                    .setTokenIds(TokenIds.newBuilder().addAllIds(Arrays.stream(ids).boxed().toList()));
            List<GenerateResponse> responses = new ArrayList<>();
            cluster.generation().generate(request.build()).forEachRemaining(responses::add);
            responses.stream().filter(GenerateResponse::hasToken).forEach(r -> {
                assertTrue(r.getToken().hasLogprob(), "logprob requested");
                assertTrue(r.getToken().getLogprob() <= 0 && r.getToken().getLogprob() > -30, "log-probability " + r.getToken().getLogprob());
            });
            Streamed streamed = Streamed.call(cluster.generation(), request.setLogprobs(false).build());
            assertSameAsEngine(ids, Generation.greedy(20), streamed);
        }

        @Test
        void sessionContinuedById() {
            Streamed first = Streamed.call(cluster.generation(), prompt("Once upon a time", 12).build());
            String id = first.finished().getSessionId();
            assertFalse(id.isEmpty());
            Streamed second = Streamed.call(cluster.generation(), prompt("Then the dog", 30).setSessionId(id).build());
            assertEquals(id, second.finished().getSessionId());
            // the session holds prompt, first answer (its last token not yet run) and the new text, no BOS
            int[] held = concat(reference.tokenizer().encode("Once upon a time", true, false), first.tokenArray(),
                    reference.tokenizer().encode("Then the dog", false, false));
            Completion expected = reference.generate(held, Generation.greedy(30));
            assertArrayEquals(expected.tokens(), second.tokenArray());
            assertEquals(expected.text(), second.text());
        }
    }

    /** The services besides Generate: reflection, health, Tokenize, ListModels. */
    @Nested
    class Services {

        @Test
        void reflectionListsTheServices() throws Exception {
            assertTrue(Grpcs.listServices(cluster.router().channel()).containsAll(List.of("binmos.v1.Generation", "binmos.v1.Registry",
                    "binmos.v1.Node", "grpc.health.v1.Health")));
            assertTrue(Grpcs.listServices(cluster.worker(0).channel()).containsAll(List.of("binmos.v1.Stage", "binmos.v1.Node",
                    "grpc.health.v1.Health")));
        }

        @Test
        void healthServing() {
            for (ServiceProcess process : List.of(cluster.router(), cluster.worker(0), cluster.worker(1))) {
                assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(process.channel())
                        .check(HealthCheckRequest.getDefaultInstance()).getStatus(), process.name());
            }
        }

        @Test
        void tokenize() {
            TokenizeResponse response = cluster.generation().tokenize(TokenizeRequest.newBuilder()
                    .setText("Once upon a time").setAddBos(true).build());
            assertEquals(List.of(1, 403, 407, 261, 378), response.getIdsList());
            assertEquals(response.getIdsCount(), response.getPiecesCount());
        }

        @Test
        void listModels() {
            ModelInfo model = cluster.generation().listModels(ListModelsRequest.getDefaultInstance()).getModels(0);
            assertEquals("stories260K", model.getId());
            assertEquals(5, model.getLayers());
            assertEquals(512, model.getContextLength());
            assertEquals(512, model.getVocabSize());
        }

        @Test
        void traceContextReachesTheWorkers() {
            byte[] random = new byte[16];
            new java.security.SecureRandom().nextBytes(random);
            String traceId = HexFormat.of().formatHex(random);
            Metadata headers = new Metadata();
            headers.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER), "00-" + traceId + "-00f067aa0ba902b7-01");
            Streamed.call(cluster.generation().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers)),
                    prompt("A bird sang", 5).build());
            for (ServiceProcess worker : cluster.workers()) {
                assertTrue(worker.logText().contains("trace=" + traceId), worker.name() + " logged no line of trace " + traceId);
            }
        }
    }

    /** Many clients at once, and clients that leave. */
    @Nested
    class Load {

        @Test
        void sixtyFourConcurrentStreamsCompleteInSharedSteps() throws Exception {
            List<String> texts = IntStream.range(0, 64).mapToObj(i -> List.of("Once upon a time", "Lily", "The sun", "A big dog",
                    "Tim and Sue", "The little girl", "One day", "Sam liked").get(i % 8) + (i < 8 ? "" : " " + "abcdefgh".charAt(i / 8 - 1)))
                    .toList();
            List<CompletableFuture<Streamed>> calls = texts.stream()
                    .map(text -> CompletableFuture.supplyAsync(() -> Streamed.call(cluster.generation(), prompt(text, 24).build()),
                            Grpcs.CLIENT_THREADS))
                    .toList();
            for (int i = 0; i < texts.size(); i++) {
                Streamed streamed = calls.get(i).get(180, TimeUnit.SECONDS);
                assertSameAsEngine(reference.tokenizer().encode(texts.get(i), true, false), Generation.greedy(24), streamed);
            }
            Metrics router = Metrics.scrape(cluster.router());
            double steps = router.value("binmos_step_batch_size_count");
            double single = router.value("binmos_step_batch_size_bucket", "le", "1.0");
            assertTrue(steps - single > 0, "steps with more than one session: " + (steps - single) + " of " + steps);
            for (ServiceProcess worker : cluster.workers()) {
                Metrics stage = Metrics.scrape(worker);
                assertTrue(stage.value("binmos_step_batch_size_count") > stage.value("binmos_step_batch_size_bucket", "le", "1.0"),
                        worker.name() + " ran batched forwards");
            }
        }

        @Test
        void cancelledRequestFreesItsSessionOnEveryStage() throws Exception {
            CountDownLatch tokens = new CountDownLatch(5);
            CompletableFuture<Status> ended = new CompletableFuture<>();
            List<ClientCallStreamObserver<GenerateRequest>> call = new ArrayList<>();
            cluster.generationAsync().generate(prompt("Once upon a time", 400).build(), new ClientResponseObserver<GenerateRequest, GenerateResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<GenerateRequest> requestStream) {
                    call.add(requestStream);
                }

                @Override
                public void onNext(GenerateResponse value) {
                    tokens.countDown();
                }

                @Override
                public void onError(Throwable t) {
                    ended.complete(Status.fromThrowable(t));
                }

                @Override
                public void onCompleted() {
                    ended.complete(Status.OK);
                }
            });
            assertTrue(tokens.await(60, TimeUnit.SECONDS), "tokens arrive");
            for (ServiceProcess worker : cluster.workers()) {
                assertTrue(cluster.status(worker).getSessions() >= 1, worker.name() + " holds the session");
            }
            call.getFirst().cancel("the client leaves", null);
            assertEquals(Status.Code.CANCELLED, ended.get(10, TimeUnit.SECONDS).getCode());
            for (ServiceProcess worker : cluster.workers()) {
                Grpcs.await(() -> cluster.status(worker).getSessions() == 0, worker.name() + " closed every session");
                assertEquals(0, cluster.status(worker).getKvBytesUsed());
            }
        }
    }

    /** Bad requests are refused with a status and a message naming the problem. */
    @Nested
    class Refusals {

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {"empty prompt", "no input", "negative max tokens", "NaN temperature", "unknown model",
                "prompt longer than the context", "token id outside the vocabulary", "empty stop string", "top_p above 1"})
        void invalidArgument(String problem) {
            GenerateRequest request = switch (problem) {
                case "empty prompt" -> prompt("", 5).build();
                case "no input" -> GenerateRequest.newBuilder().setMaxTokens(5).build();
                case "negative max tokens" -> prompt("Hi", -1).build();
                case "NaN temperature" -> prompt("Hi", 5).setSampling(SamplingParameters.newBuilder().setTemperature(Float.NaN)).build();
                case "unknown model" -> prompt("Hi", 5).setModel("gpt-9").build();
                case "prompt longer than the context" -> GenerateRequest.newBuilder().setMaxTokens(5)
                        .setTokenIds(TokenIds.newBuilder().addAllIds(IntStream.range(0, 600).map(i -> 300).boxed().toList())).build();
                case "token id outside the vocabulary" -> GenerateRequest.newBuilder().setMaxTokens(5)
                        .setTokenIds(TokenIds.newBuilder().addIds(1).addIds(512)).build();
                case "empty stop string" -> prompt("Hi", 5).addStop("").build();
                case "top_p above 1" -> prompt("Hi", 5).setSampling(SamplingParameters.newBuilder().setTopP(1.5f)).build();
                default -> throw new IllegalArgumentException(problem);
            };
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> Streamed.call(cluster.generation(), request));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
            assertNotEquals(null, e.getStatus().getDescription());
            System.out.printf("%s -> %s%n", problem, e.getStatus().getDescription());
        }

        @Test
        void unknownSessionIsNotFound() {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> Streamed.call(cluster.generation(), prompt("Hi", 5).setSessionId("no-such-session").build()));
            assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), e.toString());
        }
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }
}
