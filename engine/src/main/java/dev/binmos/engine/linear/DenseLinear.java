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

    /** Offset of logical row o in the stored tensor. */
    private long row(int o) {
        return (long) (rowOrder == null ? o : rowOrder[o]) * in;
    }

    @Override
    public void apply(float[] x, float[] y, int tokens, Parallel parallel) {
        parallel.forRange(out, Math.max(1, 16384 / Math.max(1, in)), (from, to) -> {
            int o = from;
            if (tokens > 1) {
                // rows in pairs: a batched kernel loads each token's vector once for both
                for (; o + 1 < to; o += 2) {
                    weights.dots(row(o), row(o + 1), x, 0, in, tokens, in, y, o, o + 1, out);
                }
            }
            for (; o < to; o++) {
                weights.dots(row(o), x, 0, in, tokens, in, y, o, out);
            }
        });
    }
}
