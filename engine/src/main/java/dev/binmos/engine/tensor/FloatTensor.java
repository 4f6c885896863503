package dev.binmos.engine.tensor;

/**
 * A flat run of numbers in one storage type, read as floats. One subclass per storage type, each
 * with its own vectorised {@link #dot}: the forward pass never asks which type it holds.
 */
public abstract class FloatTensor {

    /** Number of logical elements. */
    public abstract long size();

    public abstract GgmlType type();

    public abstract float getFloat(long index);

    /** Σ this[offset + i] · x[xOffset + i] for i in [0, n). Block types need block-aligned offset and n. */
    public abstract float dot(long offset, float[] x, int xOffset, int n);

    /**
     * {@link #dot} of one run of this tensor with {@code count} vectors: y[yOffset + j·yStride] =
     * dot(offset, x, xOffset + j·xStride, n) for j in [0, count), bit for bit, so a batch gives each
     * token what it would get alone.
     */
    public void dots(long offset, float[] x, int xOffset, int xStride, int count, int n, float[] y, int yOffset, int yStride) {
        for (int j = 0; j < count; j++) {
            y[yOffset + j * yStride] = dot(offset, x, xOffset + j * xStride, n);
        }
    }

    /**
     * {@link #dots} of two runs of this tensor at once (two weight rows), into y[yOffsetA + j·yStride] and
     * y[yOffsetB + j·yStride], bit for bit as two calls. Types whose batched kernel is bound by loading the
     * vectors (F16) override it so that each vector load serves both rows.
     */
    public void dots(long offsetA, long offsetB, float[] x, int xOffset, int xStride, int count, int n,
                     float[] y, int yOffsetA, int yOffsetB, int yStride) {
        dots(offsetA, x, xOffset, xStride, count, n, y, yOffsetA, yStride);
        dots(offsetB, x, xOffset, xStride, count, n, y, yOffsetB, yStride);
    }

    /** Copies n elements starting at offset into dst (dequantising). */
    public void copyTo(long offset, float[] dst, int dstOffset, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = getFloat(offset + i);
        }
    }

    /**
     * Gives the pages of a read-only file view back to the kernel: they leave the resident set, and a
     * later read faults them in again from the page cache. Nothing to do for tensors on the heap.
     */
    public void releasePages() {
    }

    /** All elements as floats; for small tensors (norm weights) and tests. */
    public float[] toFloatArray() {
        if (size() > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor of " + size() + " elements does not fit in a float[]");
        }
        float[] out = new float[(int) size()];
        copyTo(0, out, 0, out.length);
        return out;
    }
}
