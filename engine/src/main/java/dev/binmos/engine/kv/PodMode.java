package dev.binmos.engine.kv;

import java.util.Locale;

/** What a borrowing layer takes from its group's anchor for distant positions. */
public enum PodMode {
    /** The anchor's keys, scored with the layer's own queries (the paper's second version). */
    SHARED_KEYS,
    /** The anchor's pre-softmax logits themselves (the paper's first version): no distant dot products. */
    SHARED_SCORES;

    /** "shared-keys" or "shared-scores". */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static PodMode parse(String label) {
        for (PodMode mode : values()) {
            if (mode.label().equals(label)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("unknown PoD mode " + label + "; choose shared-keys or shared-scores");
    }
}
