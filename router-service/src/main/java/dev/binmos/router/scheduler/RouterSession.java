package dev.binmos.router.scheduler;

import dev.binmos.router.ServedModel;
import dev.binmos.router.registry.Pipeline;
import java.util.Arrays;

/**
 * A conversation as the router sees it: its tokens, how many of them the stages hold (positions
 * [0, fed) are in their KV caches), and the positions reserved on each stage of its pipeline. The
 * tokens [fed, length) are still to run: a prompt being prefilled, the token just sampled, or the last
 * token of a finished generation, run first when the session continues.
 *
 * <p>Ownership moves from thread to thread (the control thread while it is placed or resized, the
 * pipeline's batch loop while it generates) through queues, so fields need no locks; only the state
 * is shared with request threads.
 */
public final class RouterSession {

    enum State { ACTIVE, IDLE, CLOSED }

    private final String id;
    private final ServedModel model;
    private final Pipeline pipeline;
    private final long[] reservedBytes;
    private int[] tokens = new int[64];
    private int length;
    private int fed;
    private int reserved;
    private State state = State.ACTIVE;
    private long idleSince;

    RouterSession(String id, ServedModel model, Pipeline pipeline) {
        this.id = id;
        this.model = model;
        this.pipeline = pipeline;
        this.reservedBytes = new long[pipeline.stages().size()];
    }

    public String id() {
        return id;
    }

    public ServedModel model() {
        return model;
    }

    public Pipeline pipeline() {
        return pipeline;
    }

    /** Tokens of the conversation so far (prompts and generated, stop tokens excluded). */
    int length() {
        return length;
    }

    int[] tokens() {
        return Arrays.copyOf(tokens, length);
    }

    int token(int position) {
        return tokens[position];
    }

    void append(int... added) {
        if (length + added.length > tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, length + added.length));
        }
        System.arraycopy(added, 0, tokens, length, added.length);
        length += added.length;
    }

    /** Positions the stages hold. */
    int fed() {
        return fed;
    }

    void advance(int positions) {
        fed += positions;
    }

    /** Positions reserved on every stage. */
    int reserved() {
        return reserved;
    }

    void reserved(int positions) {
        reserved = positions;
    }

    /** KV bytes reserved on stage i, as the stage answered. */
    long reservedBytes(int stage) {
        return reservedBytes[stage];
    }

    void reservedBytes(int stage, long bytes) {
        reservedBytes[stage] = bytes;
    }

    /** Claims an idle session for a continuation; false when it is busy or closed. */
    synchronized boolean activate() {
        if (state != State.IDLE) {
            return false;
        }
        state = State.ACTIVE;
        return true;
    }

    synchronized void idle() {
        if (state == State.ACTIVE) {
            state = State.IDLE;
            idleSince = System.nanoTime();
        }
    }

    /** Marks the session closed; false when it already was. */
    synchronized boolean close() {
        if (state == State.CLOSED) {
            return false;
        }
        state = State.CLOSED;
        return true;
    }

    /** Closes the session if it idles; false when a request has claimed it meanwhile. */
    synchronized boolean closeIfIdle() {
        if (state != State.IDLE) {
            return false;
        }
        state = State.CLOSED;
        return true;
    }

    synchronized State state() {
        return state;
    }

    /** When it became idle (System.nanoTime); meaningful only while idle. */
    synchronized long idleSinceNanos() {
        return idleSince;
    }

    /** True when idle since before {@code deadline} (System.nanoTime). */
    synchronized boolean idleSince(long deadline) {
        return state == State.IDLE && idleSince - deadline < 0;
    }
}
