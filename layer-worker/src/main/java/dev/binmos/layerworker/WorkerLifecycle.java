package dev.binmos.layerworker;

import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.quarkus.grpc.runtime.health.GrpcHealthStorage;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * Start and graceful stop. On shutdown the worker drains first: grpc.health turns NOT_SERVING, the
 * router hears "draining" and places no new session here, and the sessions in flight run to their end
 * (the Stage service keeps answering meanwhile); then the worker deregisters and stops. The drain runs
 * in Quarkus' pre-shutdown phase ({@link ShutdownDelayInitiatedEvent}, enabled by
 * quarkus.shutdown.delay-enabled), the last moment the servers still answer.
 */
@Singleton
public class WorkerLifecycle {
    private static final Logger LOG = Logger.getLogger(WorkerLifecycle.class);

    private final GrpcHealthStorage health;
    private final StageSessions sessions;
    private final RouterLink link;
    private final WorkerConfig config;

    WorkerLifecycle(GrpcHealthStorage health, StageSessions sessions, RouterLink link, WorkerConfig config) {
        this.health = health;
        this.sessions = sessions;
        this.link = link;
        this.config = config;
    }

    void onStart(@Observes StartupEvent event) {
        link.start();
    }

    /** Stops admitting sessions; completes when none is open. */
    public CompletableFuture<Void> drain() {
        health.setStatus(GrpcHealthStorage.DEFAULT_SERVICE_NAME, ServingStatus.NOT_SERVING);
        health.setStatus("binmos.v1.Stage", ServingStatus.NOT_SERVING);
        CompletableFuture<Void> empty = sessions.drain();
        link.heartbeatNow();
        return empty;
    }

    void onStop(@Observes ShutdownDelayInitiatedEvent event) {
        long start = System.nanoTime();
        try {
            drain().get(config.drainTimeout().toMillis(), TimeUnit.MILLISECONDS);
            LOG.infof("drained in %d ms", (System.nanoTime() - start) / 1_000_000);
        } catch (TimeoutException e) {
            LOG.warnf("stopping with %d sessions still open after %s", sessions.count(), config.drainTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
        link.deregister();
    }
}
