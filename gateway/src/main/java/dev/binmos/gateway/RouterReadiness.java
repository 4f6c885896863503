package dev.binmos.gateway;

import dev.binmos.gateway.router.ModelCatalog;
import dev.binmos.proto.v1.ModelInfo;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready (so {@code /q/health/ready} is 200, else 503) once the router answers and serves at least one model. */
@Readiness
@ApplicationScoped
public class RouterReadiness implements AsyncHealthCheck {

    private final ModelCatalog catalog;

    RouterReadiness(ModelCatalog catalog) {
        this.catalog = catalog;
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        return catalog.models()
                .map(models -> HealthCheckResponse.named("router").status(!models.isEmpty())
                        .withData("models", String.join(",", models.stream().map(ModelInfo::getId).toList()))
                        .build())
                .onFailure().recoverWithItem(failure -> HealthCheckResponse.named("router").down()
                        .withData("error", GatewayException.of(failure, null).getMessage()).build());
    }
}
