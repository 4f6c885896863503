package dev.binmos.router.registry;

import dev.binmos.proto.v1.WorkerInfo;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One registration of a layer worker: what it announced, what its heartbeats report, and the KV bytes
 * this router has reserved on it. A worker that registers again gets a new object; the old one is
 * {@link #gone()}, and so are the sessions placed on it.
 */
public final class Worker {
    private static final AtomicLong REGISTRATIONS = new AtomicLong();

    private final WorkerInfo info;
    private final long registration = REGISTRATIONS.incrementAndGet();
    private final AtomicLong reserved = new AtomicLong();
    private volatile long lastSeen = System.nanoTime();
    private volatile boolean draining;
    private volatile boolean suspect;
    private volatile boolean gone;
    private volatile int sessions;

    Worker(WorkerInfo info) {
        this.info = info;
    }

    public WorkerInfo info() {
        return info;
    }

    public String id() {
        return info.getWorkerId();
    }

    /** Unique per registration: tells a restarted worker from its previous life. */
    public long registration() {
        return registration;
    }

    public String address() {
        return info.getAddress();
    }

    public int from() {
        return info.getLayerFrom();
    }

    public int to() {
        return info.getLayerTo();
    }

    /** Bytes a session of {@code positions} positions reserves here (the worker's formula, registry.proto). */
    public long kvBytes(int positions) {
        long sinks = info.getKvProximalSinks();
        long proximal = blocks(Math.min(positions, sinks)) + blocks(Math.clamp(positions - sinks, 0, Math.max(0, info.getKvProximalWindow() - 1)));
        return blocks(positions) * info.getKvBytesPerPosition() + proximal * info.getKvProximalBytesPerPosition();
    }

    private long blocks(long positions) {
        long block = Math.max(1, info.getKvBlockPositions());
        return (positions + block - 1) / block * block;
    }

    public long reservedBytes() {
        return reserved.get();
    }

    public void addReserved(long bytes) {
        reserved.addAndGet(bytes);
    }

    public long freeBytes() {
        return info.getKvCapacityBytes() - reserved.get();
    }

    /** May take new sessions: alive, answering, not draining. */
    public boolean placeable() {
        return !gone && !draining && !suspect;
    }

    public boolean draining() {
        return draining;
    }

    public boolean gone() {
        return gone;
    }

    /** Sessions the worker reported in its last heartbeat. */
    public int sessions() {
        return sessions;
    }

    /** A call failed as if the worker were down: place nothing here until it answers a heartbeat. */
    public void suspect() {
        suspect = true;
    }

    void heartbeat(int sessions, boolean draining) {
        this.lastSeen = System.nanoTime();
        this.sessions = sessions;
        this.draining = draining;
        this.suspect = false;
    }

    long lastSeen() {
        return lastSeen;
    }

    void markGone() {
        gone = true;
    }

    @Override
    public String toString() {
        return info.getWorkerId() + "[" + from() + ", " + to() + ")@" + address();
    }
}
