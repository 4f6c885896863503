package dev.binmos.engine.train;

/**
 * What one optimizer step measured.
 *
 * @param kl       KL(teacher ‖ student) per token: mean over the batch's tokens
 * @param mse      Σ over layers of the mean squared hidden-state error
 * @param loss     the objective: KL summed over positions and averaged over sequences, + λ · mse
 * @param gradNorm global gradient norm before clipping
 * @param lr       learning rate of the step
 * @param tokens   tokens in the batch
 * @param seconds  wall time of the step
 */
public record StepStats(double kl, double mse, double loss, double gradNorm, double lr, long tokens, double seconds) {
}
