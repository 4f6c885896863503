package dev.binmos.engine.train;

import java.util.List;

/** AdamW (β₁ 0.9, β₂ 0.999, ε 1e-8, decoupled weight decay), with its moments shaped like the student. */
final class AdamW {
    static final double BETA1 = 0.9;
    static final double BETA2 = 0.999;
    static final double EPS = 1e-8;

    final Student m;
    final Student v;
    /** Updates taken so far: the bias corrections depend on it. */
    int updates;

    AdamW(Student shape) {
        this.m = shape.zerosLike();
        this.v = shape.zerosLike();
    }

    void update(Student params, Student grads, double lr, double weightDecay) {
        updates++;
        float b1 = (float) BETA1;
        float b2 = (float) BETA2;
        float stepSize = (float) (lr / (1 - Math.pow(BETA1, updates)));
        float root2 = (float) Math.sqrt(1 - Math.pow(BETA2, updates));
        float decay = (float) (1 - lr * weightDecay);
        List<float[]> p = params.arrays();
        List<float[]> g = grads.arrays();
        List<float[]> ms = m.arrays();
        List<float[]> vs = v.arrays();
        for (int a = 0; a < p.size(); a++) {
            float[] pa = p.get(a);
            float[] ga = g.get(a);
            float[] ma = ms.get(a);
            float[] va = vs.get(a);
            for (int i = 0; i < pa.length; i++) {
                ma[i] = b1 * ma[i] + (1 - b1) * ga[i];
                va[i] = b2 * va[i] + (1 - b2) * ga[i] * ga[i];
                pa[i] = pa[i] * decay - stepSize * ma[i] / ((float) Math.sqrt(va[i]) / root2 + (float) EPS);
            }
        }
    }
}
