package dev.binmos.engine.kv;

import dev.binmos.engine.backend.Backend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.model.Configuration;
import java.util.Arrays;
import java.util.Locale;

/**
 * PoD's offline grouping. Sample sequences run through the model with dense attention; for the last
 * {@code probes} positions of each, every layer's attention distribution over the context is compared
 * with the previous layer's by the Jensen–Shannon divergence (base-2 logs, so similarity = 1 − JSD lies
 * in [0, 1]), averaged over samples, probe positions and the query heads of each unit (a kv head, or the
 * whole layer). Layers then merge bottom-up into their predecessor's group while the similarity stays at
 * or above a threshold, never across a forced anchor.
 */
public final class PodCalibration {

    /** Whether each kv head gets its own grouping or one grouping serves the whole layer. */
    public enum Granularity {
        KV_HEAD,
        LAYER;

        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public static Granularity parse(String label) {
            for (Granularity g : values()) {
                if (g.label().equals(label)) {
                    return g;
                }
            }
            throw new IllegalArgumentException("unknown granularity " + label + "; choose kv-head or layer");
        }
    }

    private final Configuration config;
    private final Granularity granularity;
    private final int probes;
    /** [unit][l − 1]: Σ JSD(layer l − 1, layer l) over everything added. */
    private final double[][] divergence;
    private long added;

    public PodCalibration(Configuration config, Granularity granularity, int probes) {
        if (probes < 1) {
            throw new IllegalArgumentException("probes must be at least 1, got " + probes);
        }
        this.config = config;
        this.granularity = granularity;
        this.probes = probes;
        this.divergence = new double[units()][Math.max(0, config.layers() - 1)];
    }

    private int units() {
        return granularity == Granularity.KV_HEAD ? config.kvHeads() : 1;
    }

    /** Runs {@code tokens} (BOS first) through the backend's model and adds its last positions' distributions. */
    public void add(Backend backend, int[] tokens) {
        if (tokens.length <= probes) {
            throw new IllegalArgumentException("a calibration sample needs more than " + probes + " tokens, got " + tokens.length);
        }
        AttentionRecorder recorder = new AttentionRecorder(config, tokens.length, tokens.length - probes);
        backend.forward(new Session("pod-calibration", recorder), tokens, 0);
        add(recorder.recorded());
    }

    /**
     * Adds distributions [layer][query head][probe]: for each probe, a probability vector over the
     * positions up to its query, the same length in every layer.
     */
    public void add(float[][][][] distributions) {
        int group = config.heads() / units();
        for (int l = 1; l < config.layers(); l++) {
            for (int h = 0; h < config.heads(); h++) {
                for (int p = 0; p < distributions[l][h].length; p++) {
                    divergence[h / group][l - 1] += jsd(distributions[l - 1][h][p], distributions[l][h][p]) / group;
                }
            }
        }
        added += distributions[0][0].length;
    }

    /** [unit][l − 1]: mean similarity of layer l to layer l − 1, unit a kv head or (per layer) all heads. */
    public double[][] similarity() {
        if (added == 0) {
            throw new IllegalStateException("no calibration samples added");
        }
        double[][] s = new double[divergence.length][];
        for (int u = 0; u < s.length; u++) {
            s[u] = Arrays.stream(divergence[u]).map(d -> 1 - d / added).toArray();
        }
        return s;
    }

    public PodGroups groups(double threshold, int... forcedAnchors) {
        return group(similarity(), config.layers(), config.kvHeads(), threshold, forcedAnchors);
    }

    /**
     * Bottom-up merging: layer l joins the group of layer l − 1 when their similarity is at least the
     * threshold and l is not a forced anchor.
     *
     * @param similarity [unit][l − 1], one unit (per layer) or one per kv head
     */
    public static PodGroups group(double[][] similarity, int layers, int kvHeads, double threshold, int... forcedAnchors) {
        int[][] anchors = new int[similarity.length][layers];
        for (int u = 0; u < similarity.length; u++) {
            for (int l = 1; l < layers; l++) {
                anchors[u][l] = similarity[u][l - 1] < threshold ? l : anchors[u][l - 1];
            }
        }
        return PodGroups.of(layers, kvHeads, anchors).withForcedAnchors(forcedAnchors);
    }

    /** Jensen–Shannon divergence of two distributions in bits: 0 for equal ones, 1 for disjoint ones. */
    public static double jsd(float[] p, float[] q) {
        if (p.length != q.length) {
            throw new IllegalArgumentException("distributions over " + p.length + " and " + q.length + " positions");
        }
        double d = 0;
        for (int i = 0; i < p.length; i++) {
            double m = 0.5 * ((double) p[i] + q[i]);
            if (p[i] > 0) {
                d += 0.5 * p[i] * Math.log(p[i] / m);
            }
            if (q[i] > 0) {
                d += 0.5 * q[i] * Math.log(q[i] / m);
            }
        }
        return Math.min(1, Math.max(0, d / Math.log(2)));
    }
}
