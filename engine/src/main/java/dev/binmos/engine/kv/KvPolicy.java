package dev.binmos.engine.kv;

import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.Llama;

/** Which {@link KvCache} a backend opens for each session, with its parameters. */
public sealed interface KvPolicy {

    KvPrecision precision();

    KvCache open(Configuration config, int capacity);

    /** One line for logs and the CLI. */
    String describe();

    /** What a session of this policy holds between steps in layers [fromLayer, toLayer) of a model of this shape. */
    KvFootprint footprint(Configuration config, int fromLayer, int toLayer);

    /** Bytes one position of one layer and kv head takes for keys or for values. */
    private static long headBytes(Configuration config, KvPrecision precision) {
        return precision.bytes(config.headSize(), config.headSize());
    }

    private static int layers(Configuration config, int fromLayer, int toLayer) {
        if (fromLayer < 0 || toLayer > config.layers() || fromLayer >= toLayer) {
            throw new IllegalArgumentException("layer range [" + fromLayer + ", " + toLayer + ") outside [0, " + config.layers() + ")");
        }
        return toLayer - fromLayer;
    }

    static KvPolicy dense() {
        return new Dense(KvPrecision.F32);
    }

    /** The model's own policy: PoD when its metadata holds a {@code pod.*} layout, else dense. */
    static KvPolicy of(Llama model) {
        return PodLayout.fromMetadata(model.source().metadata(), model.config())
                .<KvPolicy>map(layout -> new Pod(layout, KvPrecision.F32))
                .orElse(dense());
    }

    record Dense(KvPrecision precision) implements KvPolicy {
        @Override
        public KvCache open(Configuration config, int capacity) {
            return new DenseKvCache(config, capacity, precision);
        }

        @Override
        public KvFootprint footprint(Configuration config, int fromLayer, int toLayer) {
            return KvFootprint.dense(2L * layers(config, fromLayer, toLayer) * config.kvHeads() * headBytes(config, precision));
        }

        @Override
        public String describe() {
            return "dense (" + precision.label() + ")";
        }
    }

    record Pod(PodLayout layout, KvPrecision precision) implements KvPolicy {
        @Override
        public KvCache open(Configuration config, int capacity) {
            return new PodKvCache(config, capacity, layout, precision);
        }

        /** Values and anchors' keys for every position, borrowers' keys for the proximal ones. */
        @Override
        public KvFootprint footprint(Configuration config, int fromLayer, int toLayer) {
            layout.check(config);
            long all = 0;
            long proximal = 0;
            for (int l = fromLayer; l < fromLayer + layers(config, fromLayer, toLayer); l++) {
                for (int g = 0; g < config.kvHeads(); g++) {
                    all += headBytes(config, precision);
                    if (layout.groups().anchor(l, g) == l) {
                        all += headBytes(config, precision);
                    } else {
                        proximal += headBytes(config, precision);
                    }
                }
            }
            return new KvFootprint(all, proximal, layout.sinks(), layout.window());
        }

        /** The same policy with each given layer forced to be an anchor (the first layer of every pipeline stage). */
        public Pod withForcedAnchors(int... layers) {
            return new Pod(new PodLayout(layout.sinks(), layout.window(), layout.mode(), layout.groups().withForcedAnchors(layers)), precision);
        }

        @Override
        public String describe() {
            return "pod " + layout.mode().label() + ", sinks " + layout.sinks() + ", window " + layout.window()
                    + ", groups " + layout.groups() + " (" + precision.label() + ")";
        }
    }

    record Streaming(int sinks, int window, KvPrecision precision) implements KvPolicy {
        @Override
        public KvCache open(Configuration config, int capacity) {
            return new StreamingKvCache(config, capacity, sinks, window, precision);
        }

        @Override
        public KvFootprint footprint(Configuration config, int fromLayer, int toLayer) {
            return new KvFootprint(0, 2L * layers(config, fromLayer, toLayer) * config.kvHeads() * headBytes(config, precision), sinks, window);
        }

        @Override
        public String describe() {
            return "streaming, sinks " + sinks + ", window " + window + " (" + precision.label() + ")";
        }
    }

    /** @param perHead each query head keeps its own heavy hitters, rather than each kv head */
    record H2o(int heavy, int window, boolean perHead, KvPrecision precision) implements KvPolicy {
        @Override
        public KvCache open(Configuration config, int capacity) {
            return new H2oKvCache(config, capacity, heavy, window, perHead, precision);
        }

        /** heavy + window − 1 positions per kv head; with per-head choices, up to every query head's heavy hitters. */
        @Override
        public KvFootprint footprint(Configuration config, int fromLayer, int toLayer) {
            int kept = window + (perHead ? config.groupSize() : 1) * heavy;
            return new KvFootprint(0, 2L * layers(config, fromLayer, toLayer) * config.kvHeads() * headBytes(config, precision), 0, kept);
        }

        @Override
        public String describe() {
            return "h2o " + (perHead ? "per head" : "per kv head") + ", heavy " + heavy + ", window " + window + " (" + precision.label() + ")";
        }
    }
}
