package dev.binmos.router.scheduler;

import dev.binmos.router.registry.Worker;
import io.grpc.Status;

/** A stage call that failed, naming the worker. */
final class StageFailure extends RuntimeException {
    private final transient Worker worker;
    private final transient Status status;

    StageFailure(Worker worker, Status status) {
        super("stage " + worker + " failed: " + status.getCode() + (status.getDescription() == null ? "" : " " + status.getDescription()));
        this.worker = worker;
        this.status = status;
    }

    Worker worker() {
        return worker;
    }

    Status status() {
        return status;
    }

    /** The worker did not answer (down, overloaded, unreachable): it may have lost its sessions. */
    boolean unreachable() {
        return status.getCode() == Status.Code.UNAVAILABLE || status.getCode() == Status.Code.DEADLINE_EXCEEDED;
    }
}
