package dev.binmos.engine.util;

/** Told how far a long computation has come, so a caller can draw a progress bar. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (done, total) -> { };

    void update(long done, long total);
}
