package dev.binmos.engine.tensor;

/**
 * Tensor storage types, numbered as in the GGUF specification. The integer types hold raw data (BinaryMoS
 * packed signs), read as bytes rather than as a {@link FloatTensor}.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q8_0(8, 32, 34),
    I8(24, 1, 1),
    BF16(30, 1, 2);

    /** GGUF's type id. */
    public final int id;
    /** Elements per block (1 for plain floats). */
    public final int blockSize;
    /** Bytes per block. */
    public final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Whether values of this type are numbers the engine computes with as floats. */
    public boolean isFloat() {
        return this != I8;
    }

    /** Bytes that {@code elements} values take; elements must be a whole number of blocks. */
    public long byteSize(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(this + " needs a multiple of " + blockSize + " elements, got " + elements);
        }
        return elements / blockSize * blockBytes;
    }

    /** The type with GGUF id {@code id}, or null when Binmos does not support it. */
    public static GgmlType byId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }
}
