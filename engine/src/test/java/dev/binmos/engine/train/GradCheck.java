package dev.binmos.engine.train;

import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/** Central finite differences against an analytic gradient, element by element. */
final class GradCheck {
    /** Largest |numeric − analytic| allowed, relative to the largest analytic component (op checks show ≤ 4e-5). */
    static final double TOLERANCE = 1e-3;

    private GradCheck() {
    }

    /**
     * Perturbs every element of param by ±eps, evaluates loss, and fails when any numeric derivative is
     * further than TOLERANCE · max|analytic| from its analytic one. Returns that relative error.
     */
    static double check(String what, float[] param, float[] analytic, DoubleSupplier loss, double eps) {
        return check(what, param, analytic, loss, eps, false, TOLERANCE);
    }

    /**
     * As above; with {@code extrapolate}, the numeric derivative is Richardson's (4·D(eps/2) − D(eps))/3,
     * whose error is O(eps⁴): lets a deep float model use a step large enough to drown its rounding noise.
     */
    static double check(String what, float[] param, float[] analytic, DoubleSupplier loss, double eps, boolean extrapolate,
                        double tolerance) {
        double maxAnalytic = 0;
        for (float g : analytic) {
            maxAnalytic = Math.max(maxAnalytic, Math.abs(g));
        }
        if (maxAnalytic == 0) {
            throw new AssertionError(what + ": the analytic gradient is zero everywhere, nothing is checked");
        }
        double worst = 0;
        int worstAt = -1;
        double worstNumeric = 0;
        for (int i = 0; i < param.length; i++) {
            double numeric = central(param, i, loss, eps);
            if (extrapolate) {
                numeric = (4 * central(param, i, loss, eps / 2) - numeric) / 3;
            }
            double error = Math.abs(numeric - analytic[i]) / maxAnalytic;
            if (error > worst) {
                worst = error;
                worstAt = i;
                worstNumeric = numeric;
            }
        }
        if (worst > tolerance) {
            throw new AssertionError(String.format("%s: element %d numeric %.6g, analytic %.6g (max |analytic| %.3g): relative error %.3g > %.3g",
                    what, worstAt, worstNumeric, analytic[worstAt], maxAnalytic, worst, tolerance));
        }
        return worst;
    }

    private static double central(float[] param, int i, DoubleSupplier loss, double eps) {
        float saved = param[i];
        param[i] = (float) (saved + eps);
        double plus = loss.getAsDouble();
        param[i] = (float) (saved - eps);
        double minus = loss.getAsDouble();
        param[i] = saved;
        return (plus - minus) / ((double) (float) (saved + eps) - (float) (saved - eps));
    }

    static float[] gaussian(SplittableRandom random, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextGaussian() * scale);
        }
        return x;
    }

    /** Σ r_i y_i in double: a scalar loss whose gradient with respect to y is r. */
    static double project(float[] y, float[] r, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) y[i] * r[i];
        }
        return s;
    }
}
