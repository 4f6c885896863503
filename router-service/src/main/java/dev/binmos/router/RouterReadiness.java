package dev.binmos.router;

import dev.binmos.router.registry.Worker;
import dev.binmos.router.registry.WorkerRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Names this process (binmos-router) in {@code /q/health/ready}; UP once started (workers register
 * with it afterwards). Its data count the workers that take sessions and the models served.
 */
@Readiness
@ApplicationScoped
public class RouterReadiness implements HealthCheck {

    private final String service;
    private final WorkerRegistry registry;
    private final ServedModels models;

    RouterReadiness(@ConfigProperty(name = "quarkus.application.name") String service, WorkerRegistry registry, ServedModels models) {
        this.service = service;
        this.registry = registry;
        this.models = models;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named(service).up()
                .withData("workers", registry.all().stream().filter(Worker::placeable).count());
        models.all().forEach(m -> response.withData("model." + m.id(), m.config().layers() + " layers"));
        return response.build();
    }
}
