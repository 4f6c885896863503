package dev.binmos.engine.train;

import java.util.SplittableRandom;

/**
 * The training sequences as an endless stream of epochs, each in its own order drawn from (seed, epoch):
 * the batch of any step follows from the step alone, so a resumed run sees the batches an uninterrupted
 * one would.
 */
final class Epochs {
    private final int[][] data;
    private final long seed;
    private int[] order;
    private int orderEpoch = -1;

    Epochs(int[][] data, long seed) {
        this.data = data;
        this.seed = seed;
    }

    /** Sequences [step·size, (step + 1)·size) of the stream. */
    int[][] batch(int step, int size) {
        int[][] batch = new int[size][];
        for (int j = 0; j < size; j++) {
            long position = (long) step * size + j;
            int epoch = (int) (position / data.length);
            if (epoch != orderEpoch) {
                order = shuffled(data.length, new SplittableRandom(seed * 31 + epoch));
                orderEpoch = epoch;
            }
            batch[j] = data[order[(int) (position % data.length)]];
        }
        return batch;
    }

    private static int[] shuffled(int n, SplittableRandom random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
