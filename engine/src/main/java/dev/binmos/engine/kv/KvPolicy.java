package dev.binmos.engine.kv;

import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.Llama;

/** Which {@link KvCache} a backend opens for each session, with its parameters. */
public sealed interface KvPolicy {

    KvPrecision precision();

    KvCache open(Configuration config, int capacity);

    /** One line for logs and the CLI. */
    String describe();

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
        public String describe() {
            return "dense (" + precision.label() + ")";
        }
    }

    record Pod(PodLayout layout, KvPrecision precision) implements KvPolicy {
        @Override
        public KvCache open(Configuration config, int capacity) {
            return new PodKvCache(config, capacity, layout, precision);
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

        @Override
        public String describe() {
            return "h2o " + (perHead ? "per head" : "per kv head") + ", heavy " + heavy + ", window " + window + " (" + precision.label() + ")";
        }
    }
}
