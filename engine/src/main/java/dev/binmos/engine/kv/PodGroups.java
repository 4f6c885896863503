package dev.binmos.engine.kv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.StringJoiner;

/**
 * PoD's layer groups: runs of consecutive layers whose first layer, the anchor, keeps keys for every
 * position while the others borrow the anchor's keys for distant positions. Either one grouping for
 * every kv head ("per layer") or one per kv head.
 *
 * <p>Text form: a grouping is comma-separated layer ranges covering every layer in order, e.g.
 * {@code 0-1,2,3-4}; one grouping per kv head are separated by {@code ;}.
 */
public final class PodGroups {
    private final int layers;
    private final int kvHeads;
    /** anchors[unit][layer]: one unit for all kv heads, or one per kv head. */
    private final int[][] anchors;

    private PodGroups(int layers, int kvHeads, int[][] anchors) {
        if (layers < 1 || kvHeads < 1) {
            throw new IllegalArgumentException("PoD groups need at least one layer and kv head, got " + layers + " and " + kvHeads);
        }
        if (anchors.length != 1 && anchors.length != kvHeads) {
            throw new IllegalArgumentException(anchors.length + " groupings for " + kvHeads + " kv heads (give one, or one per kv head)");
        }
        for (int[] unit : anchors) {
            if (unit.length != layers || unit[0] != 0) {
                throw new IllegalArgumentException("a grouping must cover layers 0 to " + (layers - 1) + " starting at 0, got anchors " + Arrays.toString(unit));
            }
            for (int l = 1; l < layers; l++) {
                if (unit[l] != l && unit[l] != unit[l - 1]) {
                    throw new IllegalArgumentException("layer " + l + " must be an anchor or join the group of layer " + (l - 1) + ", got anchors " + Arrays.toString(unit));
                }
            }
        }
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.anchors = anchors;
    }

    /**
     * @param anchors one array per unit (a single one for all kv heads, or one per kv head): the anchor
     *                layer of every layer
     */
    public static PodGroups of(int layers, int kvHeads, int[]... anchors) {
        return new PodGroups(layers, kvHeads, Arrays.stream(anchors).map(int[]::clone).toArray(int[][]::new));
    }

    /** Every layer its own anchor: group size 1, exactly dense attention. */
    public static PodGroups separate(int layers, int kvHeads) {
        int[] anchors = new int[layers];
        Arrays.setAll(anchors, l -> l);
        return new PodGroups(layers, kvHeads, new int[][] {anchors});
    }

    public static PodGroups parse(String text, int layers, int kvHeads) {
        String[] units = text.strip().split(";");
        int[][] anchors = new int[units.length][];
        for (int u = 0; u < units.length; u++) {
            anchors[u] = parseUnit(units[u].strip(), layers, text);
        }
        return new PodGroups(layers, kvHeads, anchors);
    }

    private static int[] parseUnit(String unit, int layers, String text) {
        int[] anchors = new int[layers];
        int next = 0;
        for (String range : unit.split(",")) {
            String[] ends = range.strip().split("-", -1);
            int first;
            int last;
            try {
                first = Integer.parseInt(ends[0].strip());
                last = ends.length == 1 ? first : Integer.parseInt(ends[1].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("PoD groups '" + text + "': '" + range + "' is not a layer range like 2-4");
            }
            if (ends.length > 2 || first != next || last < first || last >= layers) {
                throw new IllegalArgumentException("PoD groups '" + text + "': ranges must cover layers 0 to " + (layers - 1) + " in order; '" + range.strip() + "' does not continue at " + next);
            }
            Arrays.fill(anchors, first, last + 1, first);
            next = last + 1;
        }
        if (next != layers) {
            throw new IllegalArgumentException("PoD groups '" + text + "' end at layer " + (next - 1) + " of " + layers);
        }
        return anchors;
    }

    public int layers() {
        return layers;
    }

    public int kvHeads() {
        return kvHeads;
    }

    /** True when every kv head has the same grouping. */
    public boolean perLayer() {
        return anchors.length == 1;
    }

    /** The anchor layer whose keys {@code layer} uses for distant positions of {@code kvHead}. */
    public int anchor(int layer, int kvHead) {
        return anchors[anchors.length == 1 ? 0 : kvHead][layer];
    }

    /** The same groups, split so that each given layer is an anchor (the first layer of a pipeline stage). */
    public PodGroups withForcedAnchors(int... forced) {
        int[][] split = new int[anchors.length][];
        for (int u = 0; u < anchors.length; u++) {
            split[u] = anchors[u].clone();
            for (int l = 1; l < layers; l++) {
                boolean isForced = false;
                for (int f : forced) {
                    if (f < 0 || f >= layers) {
                        throw new IllegalArgumentException("forced anchor " + f + " outside layers [0, " + layers + ")");
                    }
                    isForced |= f == l;
                }
                split[u][l] = isForced || anchors[u][l] == l ? l : split[u][l - 1];
            }
        }
        return new PodGroups(layers, kvHeads, split);
    }

    /** Share of (layer, kv head) pairs that borrow distant keys: the f of the memory saving f·(T − S − W)/(2T). */
    public double borrowingShare() {
        long borrowing = 0;
        for (int g = 0; g < kvHeads; g++) {
            for (int l = 0; l < layers; l++) {
                borrowing += anchor(l, g) != l ? 1 : 0;
            }
        }
        return (double) borrowing / ((long) layers * kvHeads);
    }

    @Override
    public String toString() {
        StringJoiner units = new StringJoiner(";");
        for (int[] unit : anchors) {
            List<String> ranges = new ArrayList<>();
            for (int first = 0; first < layers; ) {
                int last = first;
                while (last + 1 < layers && unit[last + 1] == first) {
                    last++;
                }
                ranges.add(first == last ? Integer.toString(first) : first + "-" + last);
                first = last + 1;
            }
            units.add(String.join(",", ranges));
        }
        return units.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PodGroups g && g.layers == layers && g.kvHeads == kvHeads && Arrays.deepEquals(g.anchors, anchors);
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(anchors) * 31 + kvHeads;
    }
}
