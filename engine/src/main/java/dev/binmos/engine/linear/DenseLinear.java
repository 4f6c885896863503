package dev.binmos.engine.linear;

import dev.binmos.engine.tensor.FloatTensor;
import dev.binmos.engine.util.Parallel;

/**
 * A weight matrix [out, in] stored row-major in a {@link FloatTensor} of any storage type. An optional
 * row order maps logical output rows to stored rows: the RoPE layout change of Hugging Face q/k weights
 * is such a view, so no weights are copied.
 */
public final class DenseLinear implements Linear {
    private final FloatTensor weights;
    private final int in;
    private final int out;
    private final int[] rowOrder;

    public DenseLinear(FloatTensor weights, int out, int in) {
        this(weights, out, in, null);
    }

    public DenseLinear(FloatTensor weights, int out, int in, int[] rowOrder) {
        if (weights.size() != (long) out * in) {
            throw new IllegalArgumentException("weights hold " + weights.size() + " values, shape [" + out + ", " + in + "] needs " + (long) out * in);
        }
        if (rowOrder != null && rowOrder.length != out) {
            throw new IllegalArgumentException("row order has " + rowOrder.length + " entries for " + out + " rows");
        }
        this.weights = weights;
        this.out = out;
        this.in = in;
        this.rowOrder = rowOrder;
    }

    public FloatTensor weights() {
        return weights;
    }

    /** The weights as row-major [out, in] floats in logical row order (row order applied). */
    public float[] toFloatArray() {
        float[] w = new float[Math.multiplyExact(out, in)];
        for (int o = 0; o < out; o++) {
            weights.copyTo((long) (rowOrder == null ? o : rowOrder[o]) * in, w, o * in, in);
        }
        return w;
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return out;
    }

    @Override
    public long weightBytes() {
        return weights.type().byteSize(weights.size());
    }

    @Override
    public void apply(float[] x, float[] y, int tokens, Parallel parallel) {
        parallel.forRange(out, Math.max(1, 16384 / Math.max(1, in)), (from, to) -> {
            for (int o = from; o < to; o++) {
                long row = (long) (rowOrder == null ? o : rowOrder[o]) * in;
                weights.dots(row, x, 0, in, tokens, in, y, o, out);
            }
        });
    }
}
