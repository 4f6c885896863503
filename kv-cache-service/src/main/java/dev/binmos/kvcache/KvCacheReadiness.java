package dev.binmos.kvcache;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Names this process (binmos-kv-cache) in {@code /q/health/ready}; UP once Quarkus has started it. */
@Readiness
@ApplicationScoped
public class KvCacheReadiness implements HealthCheck {

    private final String service;

    KvCacheReadiness(@ConfigProperty(name = "quarkus.application.name") String service) {
        this.service = service;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.up(service);
    }
}
