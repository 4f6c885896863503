package dev.binmos.gateway.router;

import dev.binmos.gateway.GatewayConfig;
import dev.binmos.gateway.GatewayException;
import dev.binmos.proto.v1.ListModelsResponse;
import dev.binmos.proto.v1.ModelInfo;
import io.grpc.Status;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;

/** The models the router serves, asked again once {@code binmos.gateway.models-ttl} has passed. */
@ApplicationScoped
public class ModelCatalog {

    private static final Duration LIST_TIMEOUT = Duration.ofSeconds(5);

    private final RouterClient router;
    private final GatewayConfig config;
    private volatile Snapshot snapshot;

    ModelCatalog(RouterClient router, GatewayConfig config) {
        this.router = router;
        this.config = config;
    }

    private record Snapshot(List<ModelInfo> models, long expiresAtNanos) {
    }

    /** The served models; fails (UNAVAILABLE) when the router cannot be reached. */
    public Uni<List<ModelInfo>> models() {
        Snapshot current = snapshot;
        if (current != null && System.nanoTime() < current.expiresAtNanos()) {
            return Uni.createFrom().item(current.models());
        }
        return router.listModels(LIST_TIMEOUT)
                .map(ListModelsResponse::getModelsList)
                .invoke(models -> snapshot = new Snapshot(models, System.nanoTime() + config.modelsTtl().toNanos()));
    }

    /**
     * The model a request names; an empty name means the only model served.
     *
     * @throws GatewayException INVALID_ARGUMENT for an unknown or missing name, UNAVAILABLE while nothing is served
     */
    public Uni<ModelInfo> resolve(String requested) {
        return models().map(models -> pick(models, requested));
    }

    private ModelInfo pick(List<ModelInfo> models, String requested) {
        if (models.isEmpty()) {
            throw new GatewayException(Status.Code.UNAVAILABLE, "no model is being served yet", null, null,
                    config.retryAfter());
        }
        List<String> ids = models.stream().map(ModelInfo::getId).toList();
        if (requested == null || requested.isEmpty()) {
            if (models.size() == 1) {
                return models.getFirst();
            }
            throw GatewayException.invalid("model", "model is required: this server serves " + ids);
        }
        return models.stream().filter(m -> m.getId().equals(requested)).findFirst()
                .orElseThrow(() -> new GatewayException(Status.Code.INVALID_ARGUMENT,
                        "the model '" + requested + "' does not exist; this server serves " + ids,
                        "model", "model_not_found", null));
    }
}
