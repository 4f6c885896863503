package dev.binmos.router.registry;

import dev.binmos.proto.v1.HeartbeatRequest;
import dev.binmos.proto.v1.WorkerInfo;
import dev.binmos.router.RouterConfig;
import io.grpc.Status;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The live layer workers. A worker is dropped when it deregisters, registers again (a restart: its KV
 * cache is gone), or misses heartbeats for the configured timeout; listeners then fail the sessions
 * that were on it.
 */
@Singleton
public class WorkerRegistry {
    private static final Logger LOG = Logger.getLogger(WorkerRegistry.class);

    private final Map<String, Worker> workers = new ConcurrentHashMap<>();
    private final List<Consumer<Worker>> goneListeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();
    private final long timeoutNanos;
    private final ScheduledExecutorService reaper = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("worker-reaper").daemon().factory());

    WorkerRegistry(RouterConfig config) {
        this.timeoutNanos = config.heartbeatTimeout().toNanos();
        long period = Math.max(50, config.heartbeatInterval().toMillis() / 2);
        reaper.scheduleWithFixedDelay(this::dropSilent, period, period, TimeUnit.MILLISECONDS);
    }

    /** Called with a worker that is gone (after it left the registry). */
    public void onGone(Consumer<Worker> listener) {
        goneListeners.add(listener);
    }

    /** Called when workers may take more sessions than before (registered, heartbeat). */
    public void onChange(Runnable listener) {
        changeListeners.add(listener);
    }

    public void register(WorkerInfo info) {
        check(info);
        Worker worker = new Worker(info);
        Worker previous = workers.put(info.getWorkerId(), worker);
        if (previous != null) {
            drop(previous, "registered again");
        }
        LOG.infof("worker %s registered: model %s (sha256 %s…), layers [%d, %d) of %d, KV %d bytes, at %s",
                info.getWorkerId(), info.getModelId(), info.getModelHash().substring(0, Math.min(12, info.getModelHash().length())),
                info.getLayerFrom(), info.getLayerTo(), info.getTotalLayers(), info.getKvCapacityBytes(), info.getAddress());
        String cut = PipelinePlanner.cutsPodGroup(worker);
        if (cut != null) {
            LOG.warnf("worker %s will not be used: its range cuts a PoD group (%s)", info.getWorkerId(), cut);
        }
        changeListeners.forEach(Runnable::run);
    }

    /** Returns false when the worker is unknown (it must register again). */
    public boolean heartbeat(HeartbeatRequest beat) {
        Worker worker = workers.get(beat.getWorkerId());
        if (worker == null) {
            return false;
        }
        boolean wasDraining = worker.draining();
        worker.heartbeat(beat.getSessions(), beat.getDraining());
        if (beat.getDraining() && !wasDraining) {
            LOG.infof("worker %s is draining", worker);
        }
        changeListeners.forEach(Runnable::run);
        return true;
    }

    public void deregister(String workerId) {
        Worker worker = workers.remove(workerId);
        if (worker != null) {
            drop(worker, "deregistered");
        }
    }

    /** The registered workers (a snapshot). */
    public List<Worker> all() {
        return List.copyOf(workers.values());
    }

    private void dropSilent() {
        long now = System.nanoTime();
        for (Worker w : workers.values()) {
            if (now - w.lastSeen() > timeoutNanos && workers.remove(w.id(), w)) {
                drop(w, "no heartbeat for " + (now - w.lastSeen()) / 1_000_000 + " ms");
            }
        }
    }

    private void drop(Worker worker, String why) {
        worker.markGone();
        LOG.infof("worker %s dropped: %s", worker, why);
        goneListeners.forEach(listener -> listener.accept(worker));
    }

    private static void check(WorkerInfo info) {
        String problem = null;
        if (info.getWorkerId().isEmpty() || info.getAddress().isEmpty() || info.getModelId().isEmpty()) {
            problem = "worker_id, address and model_id are required";
        } else if (info.getModelHash().length() != 64) {
            problem = "model_hash must be a hex SHA-256";
        } else if (info.getLayerFrom() < 0 || info.getLayerFrom() >= info.getLayerTo() || info.getLayerTo() > info.getTotalLayers()) {
            problem = "layers [" + info.getLayerFrom() + ", " + info.getLayerTo() + ") are not a range of " + info.getTotalLayers();
        } else if (info.getKvCapacityBytes() <= 0 || info.getKvBytesPerPosition() <= 0 || info.getKvBlockPositions() <= 0) {
            problem = "kv_capacity_bytes, kv_bytes_per_position and kv_block_positions must be positive";
        }
        if (problem != null) {
            throw Status.INVALID_ARGUMENT.withDescription(problem).asRuntimeException();
        }
    }

    @PreDestroy
    void stop() {
        reaper.shutdownNow();
    }
}
