package dev.binmos.gateway.router;

import dev.binmos.proto.v1.GenerateRequest;
import dev.binmos.proto.v1.GenerateResponse;
import dev.binmos.proto.v1.GenerationGrpc;
import dev.binmos.proto.v1.ListModelsRequest;
import dev.binmos.proto.v1.ListModelsResponse;
import dev.binmos.proto.v1.MutinyGenerationGrpc;
import dev.binmos.proto.v1.TokenizeRequest;
import dev.binmos.proto.v1.TokenizeResponse;
import io.grpc.Channel;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The router's {@code binmos.v1.Generation} service. The channel is Quarkus-managed
 * ({@code quarkus.grpc.clients.router.*}), so OpenTelemetry context and metrics go along with every call.
 */
@ApplicationScoped
public class RouterClient {

    /** Lets the router's logs name the gateway's request. */
    public static final Metadata.Key<String> REQUEST_ID = Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);

    private final GenerationGrpc.GenerationStub streaming;
    private final MutinyGenerationGrpc.MutinyGenerationStub unary;

    RouterClient(@GrpcClient("router") Channel channel) {
        this.streaming = GenerationGrpc.newStub(channel);
        this.unary = MutinyGenerationGrpc.newMutinyStub(channel);
    }

    /**
     * The router's events for one generation. Cancelling the subscription (client gone) cancels the call, which
     * stops the generation on the router. (Quarkus' own Mutiny stub does not cancel server streams.)
     */
    public Multi<GenerateResponse> generate(GenerateRequest request, Deadline deadline, String requestId) {
        Metadata headers = new Metadata();
        headers.put(REQUEST_ID, requestId);
        GenerationGrpc.GenerationStub stub = streaming.withDeadline(deadline)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        return Multi.createFrom().emitter(emitter -> stub.generate(request,
                new ClientResponseObserver<GenerateRequest, GenerateResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<GenerateRequest> call) {
                        emitter.onCancellation(() -> call.cancel("the client cancelled", null));
                    }

                    @Override
                    public void onNext(GenerateResponse event) {
                        emitter.emit(event);
                    }

                    @Override
                    public void onError(Throwable failure) {
                        if (!emitter.isCancelled()) { // after our own cancel, the CANCELLED status has no one to go to
                            emitter.fail(failure);
                        }
                    }

                    @Override
                    public void onCompleted() {
                        emitter.complete();
                    }
                }));
    }

    public Uni<ListModelsResponse> listModels(Duration timeout) {
        return unary.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).listModels(ListModelsRequest.getDefaultInstance());
    }

    public Uni<TokenizeResponse> tokenize(TokenizeRequest request, Deadline deadline) {
        return unary.withDeadline(deadline).tokenize(request);
    }
}
