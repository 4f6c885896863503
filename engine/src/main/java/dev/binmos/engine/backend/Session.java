package dev.binmos.engine.backend;

import dev.binmos.engine.kv.KvCache;

/**
 * A conversation's state on one backend: its id, its KV cache and how many positions it holds.
 * Positions are explicit in every call so that a retried or rewound step is well defined.
 */
public final class Session {
    private final String id;
    private final KvCache cache;
    private int length;

    public Session(String id, KvCache cache) {
        this.id = id;
        this.cache = cache;
    }

    public String id() {
        return id;
    }

    public KvCache cache() {
        return cache;
    }

    /** Positions filled so far: the next token goes to this position. */
    public int length() {
        return length;
    }

    /**
     * Declares that the cache already holds positions [0, length), filled without a forward pass (a
     * restored snapshot, or a benchmark's synthetic keys and values).
     */
    public void restored(int length) {
        if (length < 0 || length > cache.capacity()) {
            throw new IllegalArgumentException("session " + id + " has room for " + cache.capacity() + " positions, not " + length);
        }
        this.length = length;
    }

    /**
     * Checks that {@code count} tokens may be written from {@code start}, which may rewind (overwrite)
     * but not leave a gap.
     */
    void checkRange(int start, int count) {
        if (start < 0 || start > length) {
            throw new IllegalArgumentException("session " + id + " holds " + length + " positions; cannot continue at position " + start);
        }
        if (count < 1) {
            throw new IllegalArgumentException("no tokens to run for session " + id);
        }
        if (start + count > cache.capacity()) {
            throw new IllegalArgumentException("session " + id + " has room for " + cache.capacity() + " positions; " + start + " + " + count + " do not fit");
        }
    }

    /** Records that positions [start, start + count) now hold this session's tokens. */
    void advance(int start, int count) {
        checkRange(start, count);
        length = start + count;
    }
}
