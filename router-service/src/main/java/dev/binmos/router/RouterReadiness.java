package dev.binmos.router;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Names this process (binmos-router) in {@code /q/health/ready}; UP once Quarkus has started it. */
@Readiness
@ApplicationScoped
public class RouterReadiness implements HealthCheck {

    private final String service;

    RouterReadiness(@ConfigProperty(name = "quarkus.application.name") String service) {
        this.service = service;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.up(service);
    }
}
