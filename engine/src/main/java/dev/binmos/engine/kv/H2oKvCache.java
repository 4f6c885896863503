package dev.binmos.engine.kv;

import dev.binmos.engine.model.Configuration;
import java.util.Arrays;

/**
 * H2O, heavy-hitter oracle (Zhang et al.): a query attends to its recent window (the last {@code window}
 * positions up to itself, as PoD's) and the {@code heavy} older positions with the largest attention
 * accumulated so far. After each query the weakest older position beyond that budget is evicted, so
 * between steps it holds heavy + window − 1 positions. The choice is made per kv head (attention summed
 * over the query heads that share it) or per query head; a kv head then holds every position one of its
 * query heads keeps. Eviction follows every single position, also inside a prefill step, so a prompt run
 * in one step gives the same state as one run token by token.
 */
public final class H2oKvCache extends ForwardCache {
    private final int heavy;
    private final int window;
    /** Query heads that choose separately within a kv head: 1 (per kv head) or all of them (per head). */
    private final int lanes;
    private final Kept[][] kept;
    private final float[] scratch;

    public H2oKvCache(Configuration config, int capacity, int heavy, int window, boolean perHead, KvPrecision precision) {
        super("H2O", config, capacity, precision);
        if (heavy < 0 || window < 1) {
            throw new IllegalArgumentException("H2O needs heavy >= 0 and window >= 1, got " + heavy + " and " + window);
        }
        this.heavy = heavy;
        this.window = window;
        this.lanes = perHead ? groupSize : 1;
        this.kept = new Kept[layers][kvHeads];
        for (Kept[] layer : kept) {
            Arrays.setAll(layer, g -> new Kept(precision, headSize, lanes));
        }
        this.scratch = new float[headSize];
    }

    @Override
    void began(int start, int count) {
    }

    @Override
    void clear(int layer) {
        for (Kept k : kept[layer]) {
            k.clear();
        }
    }

    @Override
    void put(int layer, int g, int pos, float[] k, int kOffset, float[] v, int vOffset) {
        kept[layer][g].add(pos, k, kOffset, v, vOffset);
    }

    @Override
    public void attend(int layer, int head, int pos, float[] q, int qOffset, float[] out, int outOffset, float[] scores) {
        Kept unit = kept[layer][head / groupSize];
        int lane = head % groupSize % lanes;
        int n = unit.select(lane, unit.indexOf(pos) + 1);
        int[] chosen = unit.chosen;
        for (int j = 0; j < n; j++) {
            int s = unit.slot[chosen[j]];
            unit.keys.dots(s, s + 1, 0, q, qOffset, headSize, scale, scores, j);
        }
        Softmax.normalize(scores, 0, n, n, n);
        Arrays.fill(out, outOffset, outOffset + headSize, 0f);
        for (int j = 0; j < n; j++) {
            int s = unit.slot[chosen[j]];
            unit.values.accumulate(scores, j, s, s + 1, 0, out, outOffset, headSize);
            unit.acc[chosen[j] * lanes + lane] += scores[j];
        }
        // compact probabilities → by position, zero where dropped; downwards, since position ≥ index
        for (int j = n - 1, t = pos; j >= 0; j--) {
            float p = scores[j];
            for (; t > unit.position[chosen[j]]; t--) {
                scores[t] = 0f;
            }
            scores[t--] = p;
            if (j == 0) {
                Arrays.fill(scores, 0, t + 1, 0f);
            }
        }
        if (lanes > 1 || head % groupSize == groupSize - 1) {
            // the next query's window starts at pos + 2 − window
            for (; n > heavy + window - 1; n--) {
                unit.evictWeakest(lane, pos + 2 - window);
            }
        }
    }

    @Override
    void ended(int length) {
        for (Kept[] layer : kept) {
            for (Kept k : layer) {
                k.compact(scratch);
            }
        }
    }

    @Override
    public long bytes(int layer) {
        long bytes = 0;
        for (Kept k : kept[layer]) {
            bytes += k.keys.bytes() + k.values.bytes();
        }
        return bytes;
    }

    /**
     * The positions one kv head holds, ascending, each with its slot in keys/values and, per lane, whether
     * the lane keeps it and the attention the lane gave it; during a step the step's later positions
     * follow (stored, not yet attended). Only the thread attending this kv head touches it.
     */
    private static final class Kept {
        final Rows keys;
        final Rows values;
        final int lanes;
        int[] position = new int[Rows.BLOCK];
        int[] slot = new int[Rows.BLOCK];
        /** Bit l: lane l keeps the position. */
        long[] mask = new long[Rows.BLOCK];
        /** [entry · lanes + lane]. */
        float[] acc;
        int count;
        /** Entries a lane attends to, from {@link #select}. */
        int[] chosen = new int[Rows.BLOCK];
        /** Slots [0, slots) are in use or in free[0, freeCount). */
        private int slots;
        private int[] free = new int[Rows.BLOCK];
        private int freeCount;

        Kept(KvPrecision precision, int headSize, int lanes) {
            this.keys = Rows.of(precision, headSize, headSize);
            this.values = Rows.of(precision, headSize, headSize);
            this.lanes = lanes;
            this.acc = new float[Rows.BLOCK * lanes];
        }

        void add(int pos, float[] k, int kOffset, float[] v, int vOffset) {
            int s = freeCount > 0 ? free[--freeCount] : slots++;
            keys.put(s, k, kOffset);
            values.put(s, v, vOffset);
            if (count == position.length) {
                position = Arrays.copyOf(position, 2 * count);
                slot = Arrays.copyOf(slot, 2 * count);
                mask = Arrays.copyOf(mask, 2 * count);
                acc = Arrays.copyOf(acc, 2 * count * lanes);
                chosen = new int[2 * count];
            }
            position[count] = pos;
            slot[count] = s;
            mask[count] = (1L << lanes) - 1;
            Arrays.fill(acc, count * lanes, (count + 1) * lanes, 0f);
            count++;
        }

        int indexOf(int pos) {
            int i = Arrays.binarySearch(position, 0, count, pos);
            if (i < 0) {
                throw new IllegalStateException("position " + pos + " was not stored before it was attended");
            }
            return i;
        }

        /** Puts the entries among the first n that lane keeps into chosen; returns how many. */
        int select(int lane, int n) {
            int k = 0;
            for (int i = 0; i < n; i++) {
                if ((mask[i] >>> lane & 1) != 0) {
                    chosen[k++] = i;
                }
            }
            return k;
        }

        /** Lane drops the position before {@code recentFrom} it gave the least attention (the earliest on ties). */
        void evictWeakest(int lane, int recentFrom) {
            int weakest = -1;
            for (int i = 0; i < count && position[i] < recentFrom; i++) {
                if ((mask[i] >>> lane & 1) != 0 && (weakest < 0 || acc[i * lanes + lane] < acc[weakest * lanes + lane])) {
                    weakest = i;
                }
            }
            mask[weakest] &= ~(1L << lane);
            if (mask[weakest] != 0) {
                return;
            }
            if (freeCount == free.length) {
                free = Arrays.copyOf(free, 2 * freeCount);
            }
            free[freeCount++] = slot[weakest];
            int after = count - weakest - 1;
            System.arraycopy(position, weakest + 1, position, weakest, after);
            System.arraycopy(slot, weakest + 1, slot, weakest, after);
            System.arraycopy(mask, weakest + 1, mask, weakest, after);
            System.arraycopy(acc, (weakest + 1) * lanes, acc, weakest * lanes, after * lanes);
            count--;
        }

        /** Moves the held positions into slots [0, count) and releases the blocks beyond. */
        void compact(float[] scratch) {
            boolean[] used = new boolean[count];
            for (int i = 0; i < count; i++) {
                if (slot[i] < count) {
                    used[slot[i]] = true;
                }
            }
            int hole = 0;
            for (int i = 0; i < count; i++) {
                if (slot[i] >= count) {
                    while (used[hole]) {
                        hole++;
                    }
                    keys.copy(slot[i], keys, hole, scratch);
                    values.copy(slot[i], values, hole, scratch);
                    used[hole] = true;
                    slot[i] = hole;
                }
            }
            slots = count;
            freeCount = 0;
            keys.truncate(Math.ceilDiv(count, Rows.BLOCK));
            values.truncate(Math.ceilDiv(count, Rows.BLOCK));
        }

        void clear() {
            count = 0;
            slots = 0;
            freeCount = 0;
            keys.truncate(0);
            values.truncate(0);
        }
    }
}
