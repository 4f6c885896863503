package dev.binmos.engine.train;

import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.kv.PodMode;
import java.util.Arrays;

/**
 * Causal grouped-query attention over one sequence, forward and backward, optionally with PoD as the
 * inference {@code PodKvCache} computes it: for a kv head whose group anchor is an earlier layer, the
 * distant positions of each query — outside the first {@code sinks} and the last {@code window} up to
 * it — are scored with the anchor's keys (shared keys) or take the anchor's logits (shared scores), in
 * one softmax with the proximal ones. Keys and values are held transposed per kv head ([headSize, T]) so
 * every inner loop runs over positions, whatever the head size. Backward recomputes the attention
 * weights instead of storing T² of them.
 */
final class Attention {
    /**
     * PoD for one layer: its kv heads borrow from the anchors the layout names; q, k (after RoPE) and
     * their gradient accumulators are indexed by layer, so a borrower reads its anchor's and adds to them.
     */
    record Borrowing(PodLayout layout, int layer, float[][] q, float[][] k, float[][] dq, float[][] dk) {
    }

    private final int dim;
    private final int kvDim;
    private final int heads;
    private final int headSize;
    private final int groupSize;
    private final float scale;
    private final float[] keys;
    private final float[] values;
    private final float[] anchorKeys;
    private final float[] dKeys;
    private final float[] dValues;
    private final float[] dAnchorKeys;
    private final float[] p;
    private final float[] dp;
    /** Anchor layer of each kv head for the current call, or −1 where it attends densely. */
    private final int[] anchors;

    Attention(int dim, int heads, int kvHeads, int maxTokens) {
        this.dim = dim;
        this.heads = heads;
        this.headSize = dim / heads;
        this.kvDim = kvHeads * headSize;
        this.groupSize = heads / kvHeads;
        this.scale = (float) (1.0 / Math.sqrt(headSize));
        int n = kvDim * maxTokens;
        keys = new float[n];
        values = new float[n];
        anchorKeys = new float[n];
        dKeys = new float[n];
        dValues = new float[n];
        dAnchorKeys = new float[n];
        p = new float[maxTokens];
        dp = new float[maxTokens];
        anchors = new int[kvHeads];
    }

    /** out [T, dim] from q [T, dim], k and v [T, kvDim]; pod null for dense attention. */
    void forward(float[] q, float[] k, float[] v, int tokens, float[] out, Borrowing pod) {
        load(k, v, tokens, pod);
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                weights(q, t, h, tokens, pod);
                int kv = (h / groupSize) * headSize * tokens;
                for (int d = 0; d < headSize; d++) {
                    out[t * dim + h * headSize + d] = Vec.dot(p, 0, values, kv + d * tokens, t + 1);
                }
            }
        }
    }

    /** dq, dk, dv (and the anchors' dq and dk in pod) += the gradients for dOut [T, dim]. */
    void backward(float[] q, float[] k, float[] v, float[] dOut, int tokens, float[] dq, float[] dk, float[] dv, Borrowing pod) {
        load(k, v, tokens, pod);
        int n = kvDim * tokens;
        Arrays.fill(dKeys, 0, n, 0f);
        Arrays.fill(dValues, 0, n, 0f);
        Arrays.fill(dAnchorKeys, 0, n, 0f);
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                weights(q, t, h, tokens, pod);
                int kv = (h / groupSize) * headSize * tokens;
                int o = t * dim + h * headSize;
                Matmul.row(dOut, o, 1, values, kv, tokens, dp, 0, headSize, t + 1, false);
                for (int d = 0; d < headSize; d++) {
                    Vec.axpy(dOut[o + d], p, 0, dValues, kv + d * tokens, t + 1);
                }
                float mean = Vec.dot(p, 0, dp, 0, t + 1);
                for (int j = 0; j <= t; j++) {
                    dp[j] = p[j] * (dp[j] - mean) * scale;
                }
                int a = anchors[h / groupSize];
                int from = distantFrom(t, a, pod);
                int to = distantTo(t, a, pod);
                scoreGradient(q, dq, keys, dKeys, o, kv, tokens, 0, from);
                if (to > from) {
                    boolean shared = pod.layout().mode() == PodMode.SHARED_SCORES;
                    scoreGradient(shared ? pod.q()[a] : q, shared ? pod.dq()[a] : dq, anchorKeys, dAnchorKeys, o, kv, tokens, from, to);
                }
                scoreGradient(q, dq, keys, dKeys, o, kv, tokens, to, t + 1);
            }
        }
        untranspose(dKeys, dk, tokens, 0, kvDim);
        untranspose(dValues, dv, tokens, 0, kvDim);
        for (int g = 0; g < anchors.length; g++) {
            if (anchors[g] >= 0) {
                untranspose(dAnchorKeys, pod.dk()[anchors[g]], tokens, g * headSize, (g + 1) * headSize);
            }
        }
    }

    /** dq[o..] += Σ_j ds_j K_j and dK_j += ds_j q[o..] over positions [from, to), with ds in dp. */
    private void scoreGradient(float[] q, float[] dq, float[] kt, float[] dkt, int o, int kv, int tokens, int from, int to) {
        if (to <= from) {
            return;
        }
        for (int d = 0; d < headSize; d++) {
            int row = kv + d * tokens;
            dq[o + d] += Vec.dot(dp, from, kt, row + from, to - from);
            Vec.axpy(q[o + d], dp, from, dkt, row + from, to - from);
        }
    }

    /** The attention weights of query head h at position t into p[0..t]. */
    private void weights(float[] q, int t, int h, int tokens, Borrowing pod) {
        int kv = (h / groupSize) * headSize * tokens;
        int o = t * dim + h * headSize;
        int a = anchors[h / groupSize];
        int from = distantFrom(t, a, pod);
        int to = distantTo(t, a, pod);
        scores(q, o, keys, kv, tokens, 0, from);
        if (to > from) {
            scores(pod.layout().mode() == PodMode.SHARED_SCORES ? pod.q()[a] : q, o, anchorKeys, kv, tokens, from, to);
        }
        scores(q, o, keys, kv, tokens, to, t + 1);
        Vec.softmax(p, t + 1, scale);
    }

    /** Unscaled logits of positions [from, to) into p[from, to). */
    private void scores(float[] q, int o, float[] kt, int kv, int tokens, int from, int to) {
        if (to > from) {
            Matmul.row(q, o, 1, kt, kv + from, tokens, p, from, headSize, to - from, false);
        }
    }

    /** First distant position of query t (the end of the sinks), or t + 1 when it has none. */
    private static int distantFrom(int t, int anchor, Borrowing pod) {
        return hasDistant(t, anchor, pod) ? pod.layout().sinks() : t + 1;
    }

    /** End (exclusive) of the distant positions of query t: where its window starts. */
    private static int distantTo(int t, int anchor, Borrowing pod) {
        return hasDistant(t, anchor, pod) ? t + 1 - pod.layout().window() : t + 1;
    }

    private static boolean hasDistant(int t, int anchor, Borrowing pod) {
        return anchor >= 0 && t + 1 - pod.layout().window() > pod.layout().sinks();
    }

    /** Transposes keys and values, and for every borrowing kv head its anchor's keys. */
    private void load(float[] k, float[] v, int tokens, Borrowing pod) {
        transpose(k, keys, tokens, 0, kvDim);
        transpose(v, values, tokens, 0, kvDim);
        for (int g = 0; g < anchors.length; g++) {
            int a = pod == null ? -1 : pod.layout().groups().anchor(pod.layer(), g);
            anchors[g] = pod == null || a == pod.layer() ? -1 : a;
            if (anchors[g] >= 0) {
                transpose(pod.k()[a], anchorKeys, tokens, g * headSize, (g + 1) * headSize);
            }
        }
    }

    /** Columns [from, to) of src [T, kvDim] into dst, column c as the row c·T + t. */
    private void transpose(float[] src, float[] dst, int tokens, int from, int to) {
        for (int t = 0; t < tokens; t++) {
            for (int c = from; c < to; c++) {
                dst[c * tokens + t] = src[t * kvDim + c];
            }
        }
    }

    /** dst [T, kvDim] columns [from, to) += the transposed layout. */
    private void untranspose(float[] src, float[] dst, int tokens, int from, int to) {
        for (int t = 0; t < tokens; t++) {
            for (int c = from; c < to; c++) {
                dst[t * kvDim + c] += src[c * tokens + t];
            }
        }
    }
}
