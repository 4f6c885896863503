package dev.binmos.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Creates the {@link FloatTensor} for a storage type, and encodes floats into that type for writers. */
public final class Tensors {
    private Tensors() {
    }

    /** A view of {@code size} values of {@code type} at the start of segment (little-endian). */
    public static FloatTensor view(GgmlType type, MemorySegment segment, long size) {
        return switch (type) {
            case F32 -> new F32Tensor(segment, size);
            case F16 -> new F16Tensor(segment, size);
            case BF16 -> new BF16Tensor(segment, size);
            case Q8_0 -> new Q8_0Tensor(segment, size);
            case I8 -> throw new IllegalArgumentException("I8 tensors hold raw bytes, not floats");
        };
    }

    /**
     * Appends {@code n} values of src, starting at offset, to dst as {@code type} (quantising for Q8_0,
     * where n must be a multiple of 32). Writes {@code type.byteSize(n)} bytes.
     */
    public static void encode(GgmlType type, float[] src, int offset, int n, ByteBuffer dst) {
        if (dst.order() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalArgumentException("tensor data is little-endian; the buffer is " + dst.order());
        }
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    dst.putFloat(src[offset + i]);
                }
            }
            case F16 -> F16Tensor.encode(src, offset, n, dst);
            case BF16 -> BF16Tensor.encode(src, offset, n, dst);
            case Q8_0 -> Q8_0Tensor.encode(src, offset, n, dst);
            case I8 -> throw new IllegalArgumentException("I8 tensors hold raw bytes, not floats");
        }
    }
}
