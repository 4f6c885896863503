package dev.binmos.engine.train;

/** Told after every optimizer step, so a caller can draw progress and log the losses. */
@FunctionalInterface
public interface TrainListener {
    TrainListener NONE = (step, steps, stats) -> { };

    /** @param step steps done (1-based), out of {@code steps} */
    void stepDone(int step, int steps, StepStats stats);
}
