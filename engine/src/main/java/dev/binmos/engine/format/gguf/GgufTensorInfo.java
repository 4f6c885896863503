package dev.binmos.engine.format.gguf;

import dev.binmos.engine.tensor.GgmlType;

/**
 * A tensor as a GGUF file describes it.
 *
 * @param dims   GGML's ne: dims[0] is the innermost (contiguous) dimension, as stored in the file
 * @param offset byte offset of the data from the start of the file's data section
 */
public record GgufTensorInfo(String name, long[] dims, GgmlType type, long offset) {

    public long elements() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    public long byteSize() {
        return type.byteSize(elements());
    }

    /** Dimensions outermost first (row-major), e.g. [out, in] for a weight matrix. */
    public long[] shape() {
        long[] shape = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            shape[i] = dims[dims.length - 1 - i];
        }
        return shape;
    }
}
