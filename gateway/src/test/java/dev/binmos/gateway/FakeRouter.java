package dev.binmos.gateway;

import dev.binmos.proto.v1.FinishReason;
import dev.binmos.proto.v1.GenerateRequest;
import dev.binmos.proto.v1.GenerateResponse;
import dev.binmos.proto.v1.GeneratedToken;
import dev.binmos.proto.v1.GenerationFinished;
import dev.binmos.proto.v1.GenerationGrpc;
import dev.binmos.proto.v1.ListModelsRequest;
import dev.binmos.proto.v1.ListModelsResponse;
import dev.binmos.proto.v1.ModelInfo;
import dev.binmos.proto.v1.TokenizeRequest;
import dev.binmos.proto.v1.TokenizeResponse;
import dev.binmos.proto.v1.Usage;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A scripted router on a real port, so the gateway's tests run without the suite. The prompt picks the script:
 * "full" answers RESOURCE_EXHAUSTED (retry-after 7), "too long" INVALID_ARGUMENT, "fail midway" two tokens then an
 * error, "endless" a token every 20 ms until cancelled; anything else streams "Hello", " world", then "!" as the
 * held-back rest. (Bound by hand rather than by extending GenerationImplBase: Quarkus would take a BindableService
 * among the test classes for one of the gateway's own services.)
 */
public class FakeRouter implements QuarkusTestResourceLifecycleManager {

    static final String MODEL = "stories260K";
    static final Metadata.Key<String> TRACEPARENT = Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER);

    /** The gateway's gRPC port in tests (its separate gRPC server). */
    static volatile int gatewayGrpcPort;

    /** What the last Generate call carried. */
    static final AtomicReference<GenerateRequest> lastRequest = new AtomicReference<>();
    static final AtomicReference<Metadata> lastHeaders = new AtomicReference<>();
    static final AtomicReference<io.grpc.Deadline> lastDeadline = new AtomicReference<>();
    static volatile CountDownLatch cancelled = new CountDownLatch(1);

    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
    private Server server;

    @Override
    public Map<String, String> start() {
        try {
            server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .addService(service())
                    .build()
                    .start();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        // test-port: in test mode Quarkus points gRPC clients at the application itself unless told otherwise
        String port = Integer.toString(server.getPort());
        gatewayGrpcPort = freePort();
        return Map.of("quarkus.grpc.clients.router.port", port, "quarkus.grpc.clients.router.test-port", port,
                "quarkus.grpc.server.test-port", Integer.toString(gatewayGrpcPort));
    }

    static int freePort() {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void stop() {
        ticker.shutdownNow();
        server.shutdownNow();
    }

    private ServerServiceDefinition service() {
        return ServerServiceDefinition.builder(GenerationGrpc.getServiceDescriptor())
                .addMethod(GenerationGrpc.getGenerateMethod(), keepHeaders(ServerCalls.asyncServerStreamingCall(this::generate)))
                .addMethod(GenerationGrpc.getListModelsMethod(), ServerCalls.asyncUnaryCall(this::listModels))
                .addMethod(GenerationGrpc.getTokenizeMethod(), ServerCalls.asyncUnaryCall(this::tokenize))
                .build();
    }

    private static <Q, R> ServerCallHandler<Q, R> keepHeaders(ServerCallHandler<Q, R> handler) {
        return (call, headers) -> {
            lastHeaders.set(headers);
            return handler.startCall(call, headers);
        };
    }

    private void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> out) {
        out.onNext(ListModelsResponse.newBuilder().addModels(ModelInfo.newBuilder().setId(MODEL).setArchitecture("llama")
                .setLayers(5).setContextLength(512).setVocabSize(512)).build());
        out.onCompleted();
    }

    private void tokenize(TokenizeRequest request, StreamObserver<TokenizeResponse> out) {
        out.onNext(TokenizeResponse.newBuilder().addIds(1).addPieces("<s>").build());
        out.onCompleted();
    }

    private void generate(GenerateRequest request, StreamObserver<GenerateResponse> out) {
        lastRequest.set(request);
        lastDeadline.set(io.grpc.Context.current().getDeadline());
        String prompt = request.getPrompt();
        if (prompt.contains("full")) {
            Metadata trailers = new Metadata();
            trailers.put(GatewayException.RETRY_AFTER, "7");
            out.onError(Status.RESOURCE_EXHAUSTED.withDescription("the wait queue is full").asRuntimeException(trailers));
        } else if (prompt.contains("too long")) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("the prompt has 600 tokens, the context holds 512")
                    .asRuntimeException());
        } else if (prompt.contains("fail midway")) {
            out.onNext(token(0, "Hello"));
            out.onNext(token(1, " world"));
            out.onError(Status.INTERNAL.withDescription("a worker died").asRuntimeException());
        } else if (prompt.contains("endless")) {
            ServerCallStreamObserver<GenerateResponse> call = (ServerCallStreamObserver<GenerateResponse>) out;
            var ticks = ticker.scheduleAtFixedRate(() -> call.onNext(token(0, "la")), 0, 20, TimeUnit.MILLISECONDS);
            call.setOnCancelHandler(() -> {
                ticks.cancel(false);
                cancelled.countDown();
            });
        } else {
            for (GenerateResponse event : List.of(token(0, "Hello"), token(1, " world"), token(2, ""))) {
                out.onNext(event);
            }
            out.onNext(GenerateResponse.newBuilder().setFinished(GenerationFinished.newBuilder()
                    .setReason(FinishReason.FINISH_REASON_STOP).setText("!").setSessionId("s1")
                    .setUsage(Usage.newBuilder().setPromptTokens(4).setCompletionTokens(3).setTotalTokens(7))).build());
            out.onCompleted();
        }
    }

    private static GenerateResponse token(int position, String text) {
        return GenerateResponse.newBuilder().setToken(GeneratedToken.newBuilder().setId(100 + position).setText(text)
                .setPosition(position).setLogprob(-0.5f)).build();
    }
}
