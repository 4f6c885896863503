package dev.binmos.engine.kv;

/**
 * Memory of one session's cache.
 *
 * @param bytes      bytes of keys and values the cache holds now
 * @param denseBytes bytes a dense cache of the same precision would hold for the same positions
 */
public record KvStats(long bytes, long denseBytes) {

    /** Share of the dense bytes this cache does not need, in [0, 1) (negative if it holds more). */
    public double saving() {
        return denseBytes == 0 ? 0 : 1 - (double) bytes / denseBytes;
    }
}
