package dev.binmos.layerworker;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Names this process (binmos-layer-worker) in {@code /q/health/ready}: UP once the model is loaded
 * (it loads at start), DOWN while draining.
 */
@Readiness
@ApplicationScoped
public class LayerWorkerReadiness implements HealthCheck {

    private final String service;
    private final StageModel model;
    private final StageSessions sessions;

    LayerWorkerReadiness(@ConfigProperty(name = "quarkus.application.name") String service, StageModel model, StageSessions sessions) {
        this.service = service;
        this.model = model;
        this.sessions = sessions;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named(service)
                .status(!sessions.draining())
                .withData("model", model.id())
                .withData("layers", "[" + model.from() + ", " + model.to() + ")")
                .withData("sessions", sessions.count())
                .build();
    }
}
