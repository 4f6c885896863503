package dev.binmos.engine.format.safetensors;

import dev.binmos.engine.tensor.GgmlType;

/** Element types a safetensors header may name, with their sizes; only the float ones map to a {@link GgmlType}. */
public enum SafetensorsDtype {
    BOOL(1, null),
    U8(1, null),
    I8(1, null),
    F8_E4M3(1, null),
    F8_E5M2(1, null),
    U16(2, null),
    I16(2, null),
    F16(2, GgmlType.F16),
    BF16(2, GgmlType.BF16),
    U32(4, null),
    I32(4, null),
    F32(4, GgmlType.F32),
    U64(8, null),
    I64(8, null),
    F64(8, null);

    public final int bytes;
    /** The storage type Binmos computes with, or null when it reads no tensors of this dtype. */
    public final GgmlType ggmlType;

    SafetensorsDtype(int bytes, GgmlType ggmlType) {
        this.bytes = bytes;
        this.ggmlType = ggmlType;
    }

    /** The dtype called name in a header, or null. */
    public static SafetensorsDtype byName(String name) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }
}
