package dev.binmos.layerworker;

import dev.binmos.engine.backend.Session;
import dev.binmos.proto.v1.OpenSessionResponse;
import io.grpc.Status;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jboss.logging.Logger;

/**
 * The cache manager of a stage: the hot KV cache of every open session and its reservation. A session
 * is admitted only if its reservation fits the configured KV bytes, so a full worker answers
 * RESOURCE_EXHAUSTED instead of running out of memory. Draining refuses new sessions and completes
 * once the open ones have closed.
 */
@Singleton
public class StageSessions {
    private static final Logger LOG = Logger.getLogger(StageSessions.class);

    /** A session's engine state and how many positions it may use. */
    public static final class StageSession {
        private final Session session;
        private int reservedPositions;
        private long reservedBytes;

        StageSession(Session session) {
            this.session = session;
        }

        public Session session() {
            return session;
        }

        public int reservedPositions() {
            return reservedPositions;
        }
    }

    private final StageModel model;
    private final long capacity;
    private final Map<String, StageSession> sessions = new HashMap<>();
    private final List<CompletableFuture<Void>> emptyWaiters = new ArrayList<>();
    private long reserved;
    private boolean draining;

    StageSessions(StageModel model, WorkerConfig config) {
        this.model = model;
        this.capacity = config.kvCapacityBytes();
    }

    /** Opens a session, or changes the reservation of one already open (see stage.proto). */
    public synchronized OpenSessionResponse open(String id, int maxLength) {
        int context = model.config().contextLength();
        if (id.isEmpty()) {
            throw Status.INVALID_ARGUMENT.withDescription("session_id must not be empty").asRuntimeException();
        }
        if (maxLength < 1 || maxLength > context) {
            throw Status.INVALID_ARGUMENT.withDescription("max_length must be in [1, " + context + "], got " + maxLength).asRuntimeException();
        }
        StageSession existing = sessions.get(id);
        int held = existing == null ? 0 : existing.session.length();
        if (maxLength < held) {
            throw Status.INVALID_ARGUMENT.withDescription("session " + id + " holds " + held + " positions, more than max_length " + maxLength)
                    .asRuntimeException();
        }
        long bytes = model.kvBytes(maxLength);
        long growth = bytes - (existing == null ? 0 : existing.reservedBytes);
        if (draining && growth > 0) {
            throw Status.UNAVAILABLE.withDescription("worker is draining: no new sessions or growth").asRuntimeException();
        }
        if (growth > 0 && reserved + growth > capacity) {
            throw Status.RESOURCE_EXHAUSTED.withDescription("session " + id + " needs " + bytes + " bytes of KV cache for " + maxLength
                    + " positions; " + (capacity - reserved) + " of " + capacity + " are free").asRuntimeException();
        }
        StageSession session = existing != null ? existing : new StageSession(model.backend().openSession(id, context));
        session.reservedPositions = maxLength;
        session.reservedBytes = bytes;
        reserved += growth;
        sessions.put(id, session);
        return OpenSessionResponse.newBuilder().setReservedKvBytes(bytes).setPositions(held).build();
    }

    public synchronized StageSession get(String id) {
        return sessions.get(id);
    }

    /** Returns false when the session was not open. */
    public synchronized boolean close(String id) {
        StageSession session = sessions.remove(id);
        if (session == null) {
            return false;
        }
        reserved -= session.reservedBytes;
        if (sessions.isEmpty()) {
            emptyWaiters.forEach(waiter -> waiter.complete(null));
            emptyWaiters.clear();
        }
        return true;
    }

    /** Closes every session (their router has forgotten them); returns how many there were. */
    public synchronized int closeAll() {
        int closed = sessions.size();
        for (String id : List.copyOf(sessions.keySet())) {
            close(id);
        }
        return closed;
    }

    /** Stops admitting sessions; the returned future completes when none is open. */
    public synchronized CompletableFuture<Void> drain() {
        if (!draining) {
            draining = true;
            LOG.infof("draining: %d sessions open", sessions.size());
        }
        CompletableFuture<Void> empty = new CompletableFuture<>();
        if (sessions.isEmpty()) {
            empty.complete(null);
        } else {
            emptyWaiters.add(empty);
        }
        return empty;
    }

    public synchronized boolean draining() {
        return draining;
    }

    public synchronized int count() {
        return sessions.size();
    }

    public synchronized long reservedBytes() {
        return reserved;
    }

    public long capacityBytes() {
        return capacity;
    }

    /** Bytes of keys and values the sessions hold now (at most what they reserved). */
    public synchronized long usedBytes() {
        long used = 0;
        for (StageSession s : sessions.values()) {
            used += s.session.cache().bytes();
        }
        return used;
    }
}
