package dev.binmos.engine.kv;

import dev.binmos.engine.model.Configuration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Everything PoD needs besides the model: the proximal tokens (the first {@code sinks} positions and
 * the last {@code window} up to each query, the query included) and the layer groups. Stored in a
 * model's metadata as {@code pod.*} keys.
 */
public record PodLayout(int sinks, int window, PodMode mode, PodGroups groups) {
    public static final String SINKS = "pod.sinks";
    public static final String WINDOW = "pod.window";
    public static final String MODE = "pod.mode";
    public static final String GROUPS = "pod.groups";
    public static final int DEFAULT_SINKS = 16;

    public PodLayout {
        if (sinks < 0 || window < 1) {
            throw new IllegalArgumentException("PoD needs sinks >= 0 and window >= 1, got " + sinks + " and " + window);
        }
        if (mode == null || groups == null) {
            throw new IllegalArgumentException("PoD needs a mode and groups");
        }
    }

    /** The layout in a model's metadata, if it has one. */
    public static Optional<PodLayout> fromMetadata(Map<String, Object> metadata, Configuration config) {
        Object groups = metadata.get(GROUPS);
        if (groups == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(new PodLayout(count(metadata, SINKS, DEFAULT_SINKS), count(metadata, WINDOW, null),
                    PodMode.parse(String.valueOf(metadata.getOrDefault(MODE, PodMode.SHARED_KEYS.label()))),
                    PodGroups.parse(String.valueOf(groups), config.layers(), config.kvHeads())));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the model's pod.* metadata is invalid: " + e.getMessage(), e);
        }
    }

    private static int count(Map<String, Object> metadata, String key, Integer fallback) {
        Object value = metadata.get(key);
        if (value == null && fallback != null) {
            return fallback;
        }
        if (!(value instanceof Number n) || n.longValue() < 0 || n.longValue() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(key + " must be a non-negative integer, found " + value);
        }
        return n.intValue();
    }

    /** The pod.* metadata: integers as Long, the rest as String. */
    public Map<String, Object> metadata() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(SINKS, (long) sinks);
        m.put(WINDOW, (long) window);
        m.put(MODE, mode.label());
        m.put(GROUPS, groups.toString());
        return m;
    }

    /** Checks the groups were made for this model's layers and kv heads. */
    void check(Configuration config) {
        if (groups.layers() != config.layers() || groups.kvHeads() != config.kvHeads()) {
            throw new IllegalArgumentException("PoD groups for " + groups.layers() + " layers and " + groups.kvHeads()
                    + " kv heads do not fit a model of " + config.layers() + " layers and " + config.kvHeads() + " kv heads");
        }
    }
}
