package dev.binmos.engine.train;

/** Linear warm-up to the peak, then a cosine decay towards zero over the remaining steps (the paper's schedule). */
record CosineSchedule(double peak, int steps, int warmupSteps) {

    static CosineSchedule of(double peak, int steps, double warmup) {
        return new CosineSchedule(peak, steps, (int) Math.ceil(warmup * steps));
    }

    /** The learning rate of step s (0-based); warm-up reaches the peak at its last step, so no step runs at zero. */
    double lr(int s) {
        if (s < warmupSteps) {
            return peak * (s + 1) / warmupSteps;
        }
        double progress = (double) (s - warmupSteps) / Math.max(1, steps - warmupSteps);
        return peak * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
