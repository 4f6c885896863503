package dev.binmos.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.proto.v1.FinishReason;
import dev.binmos.proto.v1.GenerateRequest;
import dev.binmos.proto.v1.GenerateResponse;
import dev.binmos.proto.v1.GenerationGrpc;
import dev.binmos.proto.v1.ListModelsRequest;
import dev.binmos.proto.v1.SamplingParameters;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The public gRPC API against {@link FakeRouter}: forwarding, deadlines, status mapping. */
@QuarkusTest
@WithTestResource(FakeRouter.class)
class GrpcApiTest {

    private ManagedChannel channel;
    private GenerationGrpc.GenerationBlockingStub stub;

    @BeforeEach
    void connect() {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", FakeRouter.gatewayGrpcPort).usePlaintext().build();
        stub = GenerationGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void generateIsForwardedWithTheClientsDeadline() {
        List<GenerateResponse> events = new ArrayList<>();
        Instant before = Instant.now();
        stub.withDeadlineAfter(30, TimeUnit.SECONDS)
                .generate(GenerateRequest.newBuilder().setPrompt("Once").setMaxTokens(3).build())
                .forEachRemaining(events::add);
        assertEquals(4, events.size());
        assertEquals("Hello", events.getFirst().getToken().getText());
        assertEquals(FinishReason.FINISH_REASON_STOP, events.getLast().getFinished().getReason());
        assertEquals(FakeRouter.MODEL, FakeRouter.lastRequest.get().getModel(), "the only model fills an empty name");
        long remaining = FakeRouter.lastDeadline.get().timeRemaining(TimeUnit.MILLISECONDS);
        long sinceCall = Duration.between(before, Instant.now()).toMillis();
        assertTrue(remaining <= 30_000 - sinceCall + 1000 && remaining > 20_000,
                "the router sees the client's 30 s deadline, not the 10 min default: " + remaining + " ms left");
    }

    @Test
    void invalidRequestIsInvalidArgument() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub
                .generate(GenerateRequest.newBuilder().setPrompt("a")
                        .setSampling(SamplingParameters.newBuilder().setTemperature(Float.NaN)).build())
                .forEachRemaining(event -> { }));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("sampling.temperature must be a finite number >= 0 (0 is greedy), got NaN", e.getStatus().getDescription());

        e = assertThrows(StatusRuntimeException.class, () -> stub
                .generate(GenerateRequest.newBuilder().setPrompt("a").setModel("nope").build()).forEachRemaining(x -> { }));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    }

    @Test
    void fullRouterIsResourceExhaustedWithRetryAfter() {
        Iterator<GenerateResponse> events = stub.generate(GenerateRequest.newBuilder().setPrompt("full").build());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, events::next);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertEquals("7", e.getTrailers().get(GatewayException.RETRY_AFTER));
    }

    @Test
    void clientCancelCancelsTheRouterCall() throws Exception {
        FakeRouter.cancelled = new CountDownLatch(1);
        CountDownLatch firstToken = new CountDownLatch(1);
        AtomicReference<ClientCallStreamObserver<GenerateRequest>> call = new AtomicReference<>();
        GenerationGrpc.newStub(channel).generate(GenerateRequest.newBuilder().setPrompt("endless").build(),
                new ClientResponseObserver<GenerateRequest, GenerateResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<GenerateRequest> requests) {
                        call.set(requests);
                    }

                    @Override
                    public void onNext(GenerateResponse event) {
                        firstToken.countDown();
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        assertTrue(firstToken.await(5, TimeUnit.SECONDS), "a first token arrived");
        call.get().cancel("test", null);
        assertTrue(FakeRouter.cancelled.await(5, TimeUnit.SECONDS), "the router call was cancelled");
    }

    @Test
    void listModelsIsForwarded() {
        assertEquals(FakeRouter.MODEL, stub.listModels(ListModelsRequest.getDefaultInstance()).getModels(0).getId());
    }
}
