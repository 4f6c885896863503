package dev.binmos.engine.kv;

import dev.binmos.engine.model.Configuration;
import java.util.SplittableRandom;

/** Drives a cache as the forward pass does (begin, per layer: store all, attend all, end) with given vectors. */
final class CacheDriver {
    private CacheDriver() {
    }

    interface Vectors {
        /** The kvDim (keys, values) or dim (queries) floats of layer at pos. */
        float[] of(int layer, int pos);
    }

    static Vectors random(long seed, int n) {
        return (layer, pos) -> {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003L + layer * 10_007L + pos);
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) r.nextGaussian();
            }
            return v;
        };
    }

    /** Runs positions [start, start + count); returns out[layer][row · dim + head · headSize ...]. */
    static float[][] step(KvCache cache, Configuration c, int start, int count, Vectors q, Vectors k, Vectors v) {
        float[][] out = new float[c.layers()][count * c.dim()];
        float[] scores = new float[start + count];
        cache.begin(start, count);
        for (int l = 0; l < c.layers(); l++) {
            for (int t = 0; t < count; t++) {
                cache.store(l, start + t, k.of(l, start + t), 0, v.of(l, start + t), 0);
            }
            for (int g = 0; g < c.kvHeads(); g++) {
                for (int t = 0; t < count; t++) {
                    float[] query = q.of(l, start + t);
                    for (int h = g * c.groupSize(); h < (g + 1) * c.groupSize(); h++) {
                        cache.attend(l, h, start + t, query, h * c.headSize(), out[l], t * c.dim() + h * c.headSize(), scores);
                    }
                }
            }
        }
        cache.end();
        return out;
    }
}
