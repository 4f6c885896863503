package dev.binmos.layerworker;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Names this process (binmos-layer-worker) in {@code /q/health/ready}; UP once Quarkus has started it. */
@Readiness
@ApplicationScoped
public class LayerWorkerReadiness implements HealthCheck {

    private final String service;

    LayerWorkerReadiness(@ConfigProperty(name = "quarkus.application.name") String service) {
        this.service = service;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.up(service);
    }
}
