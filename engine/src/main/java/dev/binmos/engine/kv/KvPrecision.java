package dev.binmos.engine.kv;

/** How keys and values are stored: F32, or F16 to halve the cache (values round to nearest even). */
public enum KvPrecision {
    F32(4),
    F16(2);

    /** Bytes of one stored number. */
    public final int bytes;

    KvPrecision(int bytes) {
        this.bytes = bytes;
    }

    /** "f32" or "f16". */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static KvPrecision parse(String label) {
        for (KvPrecision p : values()) {
            if (p.label().equals(label)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown KV precision " + label + "; choose f32 or f16");
    }
}
