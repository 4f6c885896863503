package dev.binmos.router.registry;

import dev.binmos.proto.v1.PodLayout;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Assembles a pipeline covering layers [0, L) from registered workers. Only workers of the same model
 * file (SHA-256) and the same PoD layout form one pipeline, and a worker whose first layer would cut a
 * PoD group (a layer whose anchor lies in an earlier stage) is never used. Among the pipelines that
 * fit, the one with the fewest stages wins, then the least loaded (replicas of a range are picked by
 * load): the sum over stages of the share of KV cache reserved once this session is placed.
 */
public final class PipelinePlanner {

    /** Which reservations count: the current ones, or none (could the session ever fit?). */
    public enum Fit { NOW, EMPTY }

    private PipelinePlanner() {
    }

    /** The workers that serve this model file (by hash, whatever name they give it) and may take sessions. */
    public static List<Worker> eligible(String sha256, int layers, Collection<Worker> workers) {
        List<Worker> out = new ArrayList<>();
        for (Worker w : workers) {
            if (w.placeable() && w.info().getModelHash().equals(sha256)
                    && w.info().getTotalLayers() == layers && cutsPodGroup(w) == null) {
                out.add(w);
            }
        }
        return out;
    }

    /** Why a worker's range cuts a PoD group, or null when it does not. */
    public static String cutsPodGroup(Worker w) {
        List<Integer> anchors = w.info().getPod().getAnchorLayerList();
        if (anchors.isEmpty()) {
            return null;
        }
        int kvHeads = w.info().getPod().getKvHeads();
        if (kvHeads < 1 || anchors.size() != (long) w.info().getTotalLayers() * kvHeads) {
            return "PoD layout has " + anchors.size() + " anchors for " + w.info().getTotalLayers() + " layers and " + kvHeads + " kv heads";
        }
        for (int l = w.from(); l < w.to(); l++) {
            for (int g = 0; g < kvHeads; g++) {
                int anchor = anchors.get(l * kvHeads + g);
                if (anchor < w.from() || anchor > l) {
                    return "layer " + l + " (kv head " + g + ") borrows keys from layer " + anchor + ", outside this stage's layers ["
                            + w.from() + ", " + (l + 1) + ")";
                }
            }
        }
        return null;
    }

    /** The best pipeline with room for a session of {@code positions} positions on every stage. */
    public static Optional<Pipeline> plan(int layers, List<Worker> eligible, int positions, Fit fit) {
        Map<PodLayout, List<Worker>> byLayout = new LinkedHashMap<>();
        for (Worker w : eligible) {
            byLayout.computeIfAbsent(w.info().getPod(), k -> new ArrayList<>()).add(w);
        }
        Path best = null;
        for (List<Worker> group : byLayout.values()) {
            Path path = cheapest(layers, group, positions, fit);
            if (path != null && (best == null || path.betterThan(best))) {
                best = path;
            }
        }
        return Optional.ofNullable(best).map(p -> new Pipeline(p.stages));
    }

    private record Path(List<Worker> stages, double load) {
        boolean betterThan(Path other) {
            return stages.size() != other.stages.size() ? stages.size() < other.stages.size() : load < other.load;
        }
    }

    /** Cheapest path over layer boundaries 0 → layers; workers are edges from → to. */
    private static Path cheapest(int layers, List<Worker> workers, int positions, Fit fit) {
        Path[] best = new Path[layers + 1];
        best[0] = new Path(List.of(), 0);
        for (int boundary = 0; boundary < layers; boundary++) {
            if (best[boundary] == null) {
                continue;
            }
            for (Worker w : workers) {
                if (w.from() != boundary || w.to() > layers) {
                    continue;
                }
                long need = w.kvBytes(positions);
                long capacity = w.info().getKvCapacityBytes();
                long held = fit == Fit.NOW ? w.reservedBytes() : 0;
                if (need + held > capacity) {
                    continue;
                }
                List<Worker> stages = new ArrayList<>(best[boundary].stages);
                stages.add(w);
                Path path = new Path(stages, best[boundary].load + (double) (need + held) / capacity);
                if (best[w.to()] == null || path.betterThan(best[w.to()])) {
                    best[w.to()] = path;
                }
            }
        }
        return best[layers];
    }
}
