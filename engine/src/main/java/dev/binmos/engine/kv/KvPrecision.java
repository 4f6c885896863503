package dev.binmos.engine.kv;

/**
 * How keys and values are stored: F32; F16 to halve the cache (values round to nearest even); or Q8_0,
 * a signed byte per number and one F32 scale per group of up to 32 numbers of a head (max|x| / 127, as
 * GGML's Q8_0), a bit more than a quarter of F32.
 */
public enum KvPrecision {
    F32,
    F16,
    Q8_0;

    /** Numbers per Q8_0 scale: 32, or fewer so that a group never spans two heads. */
    static int q8Group(int headSize) {
        int a = headSize;
        int b = 32;
        while (b != 0) {
            int r = a % b;
            a = b;
            b = r;
        }
        return a;
    }

    /** Bytes of {@code numbers} stored numbers: whole heads of {@code headSize}. */
    public long bytes(long numbers, int headSize) {
        return switch (this) {
            case F32 -> 4 * numbers;
            case F16 -> 2 * numbers;
            case Q8_0 -> numbers + Float.BYTES * (numbers / q8Group(headSize));
        };
    }

    /** "f32", "f16" or "q8_0". */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static KvPrecision parse(String label) {
        for (KvPrecision p : values()) {
            if (p.label().equals(label)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown KV precision " + label + "; choose f32, f16 or q8_0");
    }
}
