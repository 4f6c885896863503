package dev.binmos.engine.util;

/** Scratch buffers that kernels keep from call to call and enlarge only when a call needs more. */
public final class Buffers {
    private Buffers() {
    }

    /** buffer if it holds n floats, else a new one that does. */
    public static float[] grown(float[] buffer, int n) {
        return buffer.length >= n ? buffer : new float[n];
    }
}
