package dev.binmos.engine.kv;

import dev.binmos.engine.model.Configuration;
import java.util.Arrays;

/**
 * PoD attention (Ma et al., "proximal tokens over distant tokens"). For a query at position p the
 * proximal positions are the first {@code sinks} and the last {@code window} up to p, [p + 1 − window, p];
 * the others are distant. In each layer group (per kv head) the anchor layer keeps keys for every position; the
 * other layers keep keys only for proximal positions and values for all, and score distant positions
 * with the anchor's keys ({@link PodMode#SHARED_KEYS}) or take the anchor's logits
 * ({@link PodMode#SHARED_SCORES}). Proximal and distant logits go through one softmax.
 *
 * <p>Layers run in order, so an anchor has stored and attended the step's positions before the rest of
 * its group attends. A group must not cross a pipeline stage (see {@link PodGroups#withForcedAnchors}).
 */
public final class PodKvCache extends ForwardCache {
    private final int sinks;
    private final int window;
    private final boolean sharedScores;
    private final int heads;
    /** anchor[layer][kvHead]. */
    private final int[][] anchor;
    /** An anchor whose next layer borrows from it: in shared-scores mode it keeps its distant logits for the step. */
    private final boolean[][] lends;
    private final Rows[][] values;
    /** Every key of anchors; null for borrowers. */
    private final Rows[][] keys;
    /** The proximal keys of borrowers; null for anchors. */
    private final Proximal[][] proximal;
    private final float[] scratch;
    /** Shared scores of the running step: [row · heads + head] holds the anchor's logits of [sinks, p + 1 − window). */
    private float[][] distantScores;
    /** Which anchor layer last wrote distantScores of each kv head in this step. */
    private final int[] scoresFrom;

    public PodKvCache(Configuration config, int capacity, PodLayout layout, KvPrecision precision) {
        super("PoD", config, capacity, precision);
        layout.check(config);
        this.sinks = layout.sinks();
        this.window = layout.window();
        this.sharedScores = layout.mode() == PodMode.SHARED_SCORES;
        this.heads = config.heads();
        this.anchor = new int[layers][kvHeads];
        this.lends = new boolean[layers][kvHeads];
        this.values = new Rows[layers][kvHeads];
        this.keys = new Rows[layers][kvHeads];
        this.proximal = new Proximal[layers][kvHeads];
        for (int l = 0; l < layers; l++) {
            for (int g = 0; g < kvHeads; g++) {
                int a = layout.groups().anchor(l, g);
                anchor[l][g] = a;
                lends[l][g] = a == l && l + 1 < layers && layout.groups().anchor(l + 1, g) == l;
                values[l][g] = Rows.of(precision, headSize, headSize);
                if (a == l) {
                    keys[l][g] = Rows.of(precision, headSize, headSize);
                } else {
                    proximal[l][g] = new Proximal(sinks, window, precision, headSize);
                }
            }
        }
        this.scratch = new float[headSize];
        this.scoresFrom = new int[kvHeads];
    }

    @Override
    void began(int start, int count) {
        for (Proximal[] layer : proximal) {
            for (Proximal p : layer) {
                if (p != null) {
                    p.begin(start);
                }
            }
        }
        distantScores = sharedScores ? new float[count * heads][] : null;
        Arrays.fill(scoresFrom, -1);
    }

    @Override
    void clear(int layer) {
        for (int g = 0; g < kvHeads; g++) {
            values[layer][g].truncate(0);
            if (keys[layer][g] != null) {
                keys[layer][g].truncate(0);
            } else {
                proximal[layer][g].clear();
            }
        }
    }

    @Override
    void put(int layer, int g, int pos, float[] k, int kOffset, float[] v, int vOffset) {
        values[layer][g].put(pos, v, vOffset);
        if (keys[layer][g] != null) {
            keys[layer][g].put(pos, k, kOffset);
        } else {
            proximal[layer][g].put(pos, k, kOffset);
        }
    }

    @Override
    public void attend(int layer, int head, int pos, float[] q, int qOffset, float[] out, int outOffset, float[] scores) {
        int g = head / groupSize;
        int a = anchor[layer][g];
        int windowStart = Math.max(sinks, pos + 1 - window);
        if (a == layer) {
            keys[layer][g].dots(0, pos + 1, 0, q, qOffset, headSize, scale, scores, 0);
            if (sharedScores && lends[layer][g] && windowStart > sinks) {
                keepDistant(pos, head, scores, windowStart - sinks);
                scoresFrom[g] = layer;
            }
        } else {
            if (length(a) <= pos) {
                throw new IllegalStateException("layer " + layer + " borrows distant keys from anchor layer " + a
                        + ", which has not run for position " + pos + " in this cache: a PoD group must not cross a pipeline stage (force an anchor at the stage's first layer)");
            }
            Proximal own = proximal[layer][g];
            own.dots(0, Math.min(sinks, pos + 1), 0, q, qOffset, headSize, scale, scores);
            own.dots(windowStart, pos + 1, 0, q, qOffset, headSize, scale, scores);
            if (windowStart > sinks) {
                if (sharedScores) {
                    if (scoresFrom[g] != a) {
                        throw new IllegalStateException("layer " + layer + " needs the logits of anchor layer " + a + " for this step, which has not run");
                    }
                    System.arraycopy(distantScores[(pos - batchStart) * heads + head], 0, scores, sinks, windowStart - sinks);
                } else {
                    keys[a][g].dots(sinks, windowStart, 0, q, qOffset, headSize, scale, scores, sinks);
                }
            }
        }
        Softmax.normalize(scores, 0, pos + 1, pos + 1, pos + 1);
        Arrays.fill(out, outOffset, outOffset + headSize, 0f);
        values[layer][g].accumulate(scores, 0, 0, pos + 1, 0, out, outOffset, headSize);
    }

    /** Keeps the anchor's logits of [sinks, sinks + n) for the rest of its group in this step. */
    private void keepDistant(int pos, int head, float[] scores, int n) {
        int row = (pos - batchStart) * heads + head;
        if (distantScores[row] == null || distantScores[row].length < n) {
            distantScores[row] = new float[n];
        }
        System.arraycopy(scores, sinks, distantScores[row], 0, n);
    }

    @Override
    void ended(int length) {
        for (Proximal[] layer : proximal) {
            for (Proximal p : layer) {
                if (p != null) {
                    p.end(length, scratch);
                }
            }
        }
        distantScores = null;
    }

    @Override
    public long bytes(int layer) {
        long bytes = 0;
        for (int g = 0; g < kvHeads; g++) {
            bytes += values[layer][g].bytes() + (keys[layer][g] != null ? keys[layer][g].bytes() : proximal[layer][g].bytes());
        }
        return bytes;
    }
}
