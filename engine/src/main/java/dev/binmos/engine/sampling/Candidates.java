package dev.binmos.engine.sampling;

import java.util.Arrays;

/**
 * The tokens still in the running while a sample is drawn, with their logits and then probabilities. Buffers are
 * sized once for the vocabulary and reused, so sampling allocates nothing.
 *
 * <p>Ordering uses one long per token: the value's bits made order-preserving and inverted in the high half, the id
 * in the low half. Sorting these ascending gives value descending, lowest id first on ties, with a primitive sort.
 */
final class Candidates {
    private final int[] ids;
    private final float[] values;
    private final long[] keys;
    private int size;
    private boolean sorted;

    Candidates(int vocabSize) {
        ids = new int[vocabSize];
        values = new float[vocabSize];
        keys = new long[vocabSize];
    }

    /** Every token, in id order. */
    void all(float[] logits, int n) {
        for (int id = 0; id < n; id++) {
            ids[id] = id;
            values[id] = logits[id];
        }
        size = n;
        sorted = false;
    }

    /** The k highest logits, sorted, found with a bounded max-heap of keys: O(n log k) instead of a full sort. */
    void topK(float[] logits, int n, int k) {
        int heap = 0;
        for (int id = 0; id < n; id++) {
            long key = key(logits[id], id);
            if (heap < k) {
                keys[heap] = key;
                siftUp(heap++);
            } else if (key < keys[0]) {
                keys[0] = key;
                siftDown(k);
            }
        }
        Arrays.sort(keys, 0, k);
        fromKeys(k);
    }

    /**
     * Turns the logits into probabilities, exp((l - max) / temperature) normalised; subtracting first keeps a tiny
     * temperature from overflowing. Returns false, leaving the values alone, if the largest logit is infinite (or
     * all are -inf), where probabilities are undefined.
     */
    boolean softmax(float temperature) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < size; i++) {
            max = Math.max(max, values[i]);
        }
        if (!Float.isFinite(max)) {
            return false;
        }
        double sum = 0;
        for (int i = 0; i < size; i++) {
            values[i] = (float) Math.exp((values[i] - max) / temperature);
            sum += values[i];
        }
        for (int i = 0; i < size; i++) {
            values[i] = (float) (values[i] / sum);
        }
        return true;
    }

    /** Keeps the smallest set of most likely tokens whose probability reaches {@code p}. */
    void topP(float p) {
        if (p >= 1 || size <= 1) {
            return;
        }
        if (!sorted) {
            // A token below (1 - p) / (n - 1) can never be in the nucleus: all such tokens together stay below
            // 1 - p. Dropping them first leaves few tokens to sort.
            float cutoff = (1 - p) / (size - 1);
            int kept = 0;
            for (int i = 0; i < size; i++) {
                if (values[i] >= cutoff) {
                    keys[kept++] = key(values[i], ids[i]);
                }
            }
            Arrays.sort(keys, 0, kept);
            fromKeys(kept);
        }
        double cumulative = 0;
        for (int i = 0; i < size; i++) {
            cumulative += values[i];
            if (cumulative >= p) {
                size = i + 1;
                return;
            }
        }
    }

    /** Drops tokens whose probability is below {@code m} times the largest. */
    void minP(float m) {
        if (m <= 0) {
            return;
        }
        float max = 0;
        for (int i = 0; i < size; i++) {
            max = Math.max(max, values[i]);
        }
        float threshold = m * max;
        int kept = 0;
        for (int i = 0; i < size; i++) {
            if (values[i] >= threshold) {
                ids[kept] = ids[i];
                values[kept++] = values[i];
            }
        }
        size = kept;
    }

    /** The token at {@code u} in [0, 1) of the cumulative distribution, renormalised over what is left. */
    int draw(double u) {
        double total = 0;
        for (int i = 0; i < size; i++) {
            total += values[i];
        }
        double target = u * total;
        double cumulative = 0;
        int last = ids[0];
        for (int i = 0; i < size; i++) {
            if (values[i] > 0) {
                cumulative += values[i];
                last = ids[i];
                if (target < cumulative) {
                    return ids[i];
                }
            }
        }
        return last; // rounding left target at the very top
    }

    private void fromKeys(int n) {
        for (int i = 0; i < n; i++) {
            ids[i] = (int) keys[i];
            values[i] = value(keys[i]);
        }
        size = n;
        sorted = true;
    }

    private void siftUp(int i) {
        long key = keys[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (keys[parent] >= key) {
                break;
            }
            keys[i] = keys[parent];
            i = parent;
        }
        keys[i] = key;
    }

    private void siftDown(int n) {
        long key = keys[0];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= n) {
                break;
            }
            if (child + 1 < n && keys[child + 1] > keys[child]) {
                child++;
            }
            if (key >= keys[child]) {
                break;
            }
            keys[i] = keys[child];
            i = child;
        }
        keys[i] = key;
    }

    static long key(float value, int id) {
        int bits = Float.floatToIntBits(value);
        int ascending = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        return ((long) ~ascending << 32) | id;
    }

    static float value(long key) {
        int ascending = ~(int) (key >>> 32);
        return Float.intBitsToFloat(ascending ^ ((ascending >> 31) & 0x7FFFFFFF));
    }
}
