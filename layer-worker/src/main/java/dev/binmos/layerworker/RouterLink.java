package dev.binmos.layerworker;

import dev.binmos.proto.v1.BackendKind;
import dev.binmos.proto.v1.DeregisterRequest;
import dev.binmos.proto.v1.HeartbeatRequest;
import dev.binmos.engine.kv.KvFootprint;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.proto.v1.PodLayout;
import dev.binmos.proto.v1.RegisterRequest;
import dev.binmos.proto.v1.RegistryGrpc;
import dev.binmos.proto.v1.WorkerInfo;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import jakarta.inject.Singleton;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The worker's registration with the router: registers (retrying until the router answers), sends
 * heartbeats with its load, registers again when the router has forgotten it, and deregisters on
 * shutdown. All calls run on one timer thread.
 */
@Singleton
public class RouterLink {
    private static final Logger LOG = Logger.getLogger(RouterLink.class);
    private static final long RETRY_MS = 500;
    private static final long DEADLINE_MS = 5_000;

    private final WorkerConfig config;
    private final StageSessions sessions;
    private final WorkerInfo info;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("router-link").daemon().factory());
    private ManagedChannel channel;
    private RegistryGrpc.RegistryBlockingStub registry;
    private boolean registered;
    private long heartbeatMs = 1_000;

    RouterLink(WorkerConfig config, StageModel model, StageSessions sessions,
               @ConfigProperty(name = "quarkus.http.port") int port) {
        this.config = config;
        this.sessions = sessions;
        this.info = WorkerInfo.newBuilder()
                .setWorkerId(config.workerId().orElseGet(() -> "worker-" + UUID.randomUUID().toString().substring(0, 8)))
                .setModelId(model.id())
                .setModelHash(model.sha256())
                .setPod(pod(model))
                .setLayerFrom(model.from())
                .setLayerTo(model.to())
                .setTotalLayers(model.config().layers())
                .setKvCapacityBytes(config.kvCapacityBytes())
                .setKvBytesPerPosition(model.footprint().perPosition())
                .setKvBlockPositions(KvFootprint.BLOCK)
                .setKvProximalBytesPerPosition(model.footprint().proximalPerPosition())
                .setKvProximalSinks(model.footprint().sinks())
                .setKvProximalWindow(model.footprint().window())
                .setBackend(BackendKind.BACKEND_KIND_CPU)
                .setAddress(config.advertisedAddress().orElse("127.0.0.1:" + port))
                .build();
    }

    /** The PoD layout as registry.proto has it: every (layer, kv head)'s anchor; empty for dense attention. */
    private static PodLayout pod(StageModel model) {
        if (!(model.policy() instanceof KvPolicy.Pod pod)) {
            return PodLayout.getDefaultInstance();
        }
        var layout = pod.layout();
        int kvHeads = model.config().kvHeads();
        PodLayout.Builder b = PodLayout.newBuilder().setSinks(layout.sinks()).setWindow(layout.window())
                .setMode(layout.mode().label()).setKvHeads(kvHeads);
        for (int l = 0; l < model.config().layers(); l++) {
            for (int g = 0; g < kvHeads; g++) {
                b.addAnchorLayer(layout.groups().anchor(l, g));
            }
        }
        return b.build();
    }

    public WorkerInfo info() {
        return info;
    }

    void start() {
        if (config.router().isEmpty()) {
            LOG.info("binmos.worker.router is not set: not registering");
            return;
        }
        channel = NettyChannelBuilder.forTarget(config.router().get()).usePlaintext().build();
        registry = RegistryGrpc.newBlockingStub(channel);
        timer.execute(this::tick);
    }

    /** Sends a heartbeat now (e.g. to announce draining) instead of at the next interval. */
    void heartbeatNow() {
        if (registry != null && !timer.isShutdown()) {
            timer.execute(this::beat);
        }
    }

    /** Stops the heartbeats and tells the router this worker is gone. */
    void deregister() {
        if (registry == null) {
            return;
        }
        // let a heartbeat in flight finish; tick() schedules no more
        timer.shutdown();
        try {
            timer.awaitTermination(DEADLINE_MS, TimeUnit.MILLISECONDS);
            registry.withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                    .deregister(DeregisterRequest.newBuilder().setWorkerId(info.getWorkerId()).build());
            LOG.infof("deregistered %s from %s", info.getWorkerId(), config.router().get());
        } catch (StatusRuntimeException e) {
            LOG.warnf("could not deregister from %s: %s", config.router().get(), e.getStatus());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            channel.shutdownNow();
        }
    }

    private void tick() {
        if (!registered) {
            register();
        } else {
            beat();
        }
        try {
            timer.schedule(this::tick, registered ? heartbeatMs : RETRY_MS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            // deregister() has shut the timer down
        }
    }

    private void register() {
        try {
            heartbeatMs = registry.withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                    .register(RegisterRequest.newBuilder().setWorker(info).build())
                    .getHeartbeatIntervalMs();
            registered = true;
            LOG.infof("registered %s (layers [%d, %d) at %s) with %s", info.getWorkerId(), info.getLayerFrom(),
                    info.getLayerTo(), info.getAddress(), config.router().get());
        } catch (StatusRuntimeException e) {
            LOG.debugf("router %s not reachable yet: %s", config.router().get(), e.getStatus());
        }
    }

    private void beat() {
        try {
            boolean known = registry.withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                    .heartbeat(HeartbeatRequest.newBuilder()
                            .setWorkerId(info.getWorkerId())
                            .setSessions(sessions.count())
                            .setKvBytesUsed(sessions.usedBytes())
                            .setDraining(sessions.draining())
                            .build())
                    .getKnown();
            if (!known) {
                // the router restarted or gave this worker up: it failed the sessions placed here
                int orphans = sessions.closeAll();
                LOG.infof("router %s does not know %s: closed %d orphaned sessions, registering again", config.router().get(),
                        info.getWorkerId(), orphans);
                registered = false;
            }
        } catch (StatusRuntimeException e) {
            LOG.warnf("heartbeat to %s failed: %s", config.router().get(), e.getStatus());
        }
    }
}
