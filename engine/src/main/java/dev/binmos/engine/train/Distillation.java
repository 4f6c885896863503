package dev.binmos.engine.train;

/**
 * The distillation loss of one sequence and its gradients: KL(teacher ‖ student) over the whole
 * vocabulary at every position, and the squared error of hidden states. The gradients are those of the
 * batch's loss (normalised by the caller's counts for the whole batch), so a batch's simply add up.
 */
final class Distillation {
    private Distillation() {
    }

    /**
     * Σ over the tokens of KL(softmax(teacher) ‖ softmax(student)); dStudent = (p_student − p_teacher) / divisor.
     * Sums are taken in double: the KL of a good student is a small difference of large terms.
     *
     * @param scratch at least vocab floats
     */
    static double kl(float[] teacher, float[] student, int tokens, int vocab, double divisor, float[] dStudent,
                     float[] scratch) {
        double total = 0;
        for (int t = 0; t < tokens; t++) {
            int o = t * vocab;
            float teacherMax = max(teacher, o, vocab);
            float studentMax = max(student, o, vocab);
            double teacherSum = 0;
            double studentSum = 0;
            for (int i = 0; i < vocab; i++) {
                scratch[i] = (float) Math.exp(teacher[o + i] - teacherMax);
                teacherSum += scratch[i];
                dStudent[o + i] = (float) Math.exp(student[o + i] - studentMax);
                studentSum += dStudent[o + i];
            }
            // log p_t − log p_s = (z_t − z_s) − (teacherMax + log Σ_t) + (studentMax + log Σ_s)
            double shift = studentMax + Math.log(studentSum) - teacherMax - Math.log(teacherSum);
            double cross = 0;
            for (int i = 0; i < vocab; i++) {
                double pt = scratch[i] / teacherSum;
                cross += pt * (teacher[o + i] - student[o + i]);
                dStudent[o + i] = (float) ((dStudent[o + i] / studentSum - pt) / divisor);
            }
            total += cross + shift;
        }
        return total;
    }

    private static float max(float[] x, int offset, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            m = Math.max(m, x[offset + i]);
        }
        return m;
    }

    /** Σ (s − t)²; dS += 2λ(s − t) / elements (the gradient of λ · mean over the batch's elements). */
    static double squaredError(float[] student, float[] teacher, int n, double lambda, double elements, float[] dS) {
        double total = 0;
        float c = (float) (2 * lambda / elements);
        for (int i = 0; i < n; i++) {
            float diff = student[i] - teacher[i];
            total += (double) diff * diff;
            dS[i] += c * diff;
        }
        return total;
    }
}
