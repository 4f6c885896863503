package dev.binmos.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Lane sums in one fixed order. {@code reduceLanes(ADD)} sums in one order when interpreted and in another
 * once C2 compiles it, so the same dot could change in its last bit as the JIT warms up, and a token
 * batched with others (one compiled method) could differ from the same token alone (another). A butterfly
 * of lanewise adds is exact IEEE arithmetic in both, so every caller gets the same sum for the same lanes.
 */
public final class Lanes {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    // one field per level, not an array, so C2 sees constants
    private static final VectorShuffle<Float> X8 = swap(8);
    private static final VectorShuffle<Float> X4 = swap(4);
    private static final VectorShuffle<Float> X2 = swap(2);
    private static final VectorShuffle<Float> X1 = swap(1);

    private Lanes() {
    }

    private static VectorShuffle<Float> swap(int distance) {
        return distance < S.length() ? VectorShuffle.fromOp(S, i -> i ^ distance) : null;
    }

    /** Σ lanes of a vector of the preferred species, in a fixed butterfly order. */
    public static float sum(FloatVector v) {
        int n = S.length();
        if (n > 8) {
            v = v.add(v.rearrange(X8));
        }
        if (n > 4) {
            v = v.add(v.rearrange(X4));
        }
        if (n > 2) {
            v = v.add(v.rearrange(X2));
        }
        if (n > 1) {
            v = v.add(v.rearrange(X1));
        }
        return v.lane(0);
    }
}
