package dev.binmos.gateway.grpc;

import dev.binmos.gateway.GatewayConfig;
import dev.binmos.gateway.GatewayException;
import dev.binmos.gateway.GenerationObserver;
import dev.binmos.gateway.RequestIds;
import dev.binmos.gateway.RequestRules;
import dev.binmos.gateway.router.ModelCatalog;
import dev.binmos.gateway.router.RouterClient;
import dev.binmos.proto.v1.GenerateRequest;
import dev.binmos.proto.v1.GenerateResponse;
import dev.binmos.proto.v1.Generation;
import dev.binmos.proto.v1.ListModelsRequest;
import dev.binmos.proto.v1.ListModelsResponse;
import dev.binmos.proto.v1.TokenizeRequest;
import dev.binmos.proto.v1.TokenizeResponse;
import io.grpc.Context;
import io.grpc.Deadline;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import java.util.concurrent.TimeUnit;

/**
 * The public gRPC API: the router's {@code binmos.v1.Generation}, forwarded after the gateway's checks. The
 * client's deadline goes along (else {@code binmos.gateway.request-timeout}); a client cancelling its call
 * cancels the router's; failures keep their status code, with Retry-After as a {@code retry-after} trailer.
 */
@GrpcService
public class GenerationService implements Generation {

    private final ModelCatalog catalog;
    private final RouterClient router;
    private final GenerationObserver observer;
    private final GatewayConfig config;

    GenerationService(ModelCatalog catalog, RouterClient router, GenerationObserver observer, GatewayConfig config) {
        this.catalog = catalog;
        this.router = router;
        this.observer = observer;
        this.config = config;
    }

    @Override
    public Multi<GenerateResponse> generate(GenerateRequest request) {
        Deadline deadline = deadline();
        String requestId = RequestIds.of(null);
        return catalog.resolve(request.getModel())
                .onItem().transformToMulti(model -> {
                    RequestRules.check(request, model, RequestRules.PROTO_NAMES);
                    GenerateRequest resolved = request.toBuilder().setModel(model.getId()).build();
                    return observer.observe("grpc", requestId, model.getId(), router.generate(resolved, deadline, requestId));
                })
                .onFailure().transform(this::toStatus);
    }

    @Override
    public Uni<TokenizeResponse> tokenize(TokenizeRequest request) {
        return catalog.resolve(request.getModel())
                .onItem().transformToUni(model -> router.tokenize(request.toBuilder().setModel(model.getId()).build(), deadline()))
                .onFailure().transform(this::toStatus);
    }

    @Override
    public Uni<ListModelsResponse> listModels(ListModelsRequest request) {
        return catalog.models()
                .map(models -> ListModelsResponse.newBuilder().addAllModels(models).build())
                .onFailure().transform(this::toStatus);
    }

    private Deadline deadline() {
        Deadline client = Context.current().getDeadline();
        return client != null ? client : Deadline.after(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private Throwable toStatus(Throwable failure) {
        GatewayException e = GatewayException.of(failure, config.retryAfter());
        observer.failed("grpc", e.code());
        return e.toStatus();
    }
}
