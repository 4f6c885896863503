package dev.binmos.engine.kv;

import dev.binmos.engine.tensor.Lanes;
import dev.binmos.engine.util.Buffers;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Rows} as GGML's Q8_0: each group of {@link KvPrecision#q8Group} numbers of a slot is a scale
 * d = max|x| / 127 and one signed byte q = round(x / d) per number, value = d · q. The kernels widen the
 * bytes to floats in registers and apply each group's scale once.
 */
final class Q8Rows extends Rows {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /** As many bytes as F has floats. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 4)));

    private final int group;
    private final int groups;
    /** Whole groups are whole vectors: the vector kernels apply. */
    private final boolean vectors;
    private final List<byte[]> blocks = new ArrayList<>();
    private final List<float[]> scales = new ArrayList<>();

    Q8Rows(int width, int headSize) {
        super(width, headSize);
        this.group = KvPrecision.q8Group(headSize);
        this.groups = width / group;
        this.vectors = B.length() == F.length() && group % F.length() == 0;
    }

    @Override
    KvPrecision precision() {
        return KvPrecision.Q8_0;
    }

    /** Allocates the blocks up to slot's. */
    private void reach(int slot) {
        while (blocks.size() <= slot / BLOCK) {
            blocks.add(new byte[BLOCK * width]);
            scales.add(new float[BLOCK * groups]);
        }
    }

    @Override
    void put(int slot, float[] src, int offset) {
        reach(slot);
        byte[] block = blocks.get(slot / BLOCK);
        float[] d = scales.get(slot / BLOCK);
        int at = (slot % BLOCK) * width;
        for (int g = 0; g < groups; g++) {
            int from = g * group;
            float amax = absMax(src, offset + from);
            float scale = amax / 127f;
            float inverse = scale != 0f ? 1f / scale : 0f;
            d[(slot % BLOCK) * groups + g] = scale;
            int i = from;
            for (; vectors && i < from + group; i += F.length()) {
                rounded(FloatVector.fromArray(F, src, offset + i).mul(inverse)).intoArray(block, at + i);
            }
            for (; i < from + group; i++) {
                block[at + i] = (byte) Math.round(src[offset + i] * inverse);
            }
        }
    }

    /** max |x| over the group of numbers at src[at] (a maximum, so the order does not matter). */
    private float absMax(float[] src, int at) {
        if (!vectors) {
            float amax = 0f;
            for (int i = at; i < at + group; i++) {
                amax = Math.max(amax, Math.abs(src[i]));
            }
            return amax;
        }
        FloatVector m = FloatVector.fromArray(F, src, at).abs();
        for (int i = F.length(); i < group; i += F.length()) {
            m = m.max(FloatVector.fromArray(F, src, at + i).abs());
        }
        return m.reduceLanes(VectorOperators.MAX);
    }

    /**
     * {@link Math#round(float)} of every lane (|y| ≤ 127 here, or NaN), as bytes: the truncation t, plus one
     * where y − t ≥ ½, minus one where y − t &lt; −½ (y − t is exact), so ties go up as Math.round's do.
     */
    private static ByteVector rounded(FloatVector y) {
        IntVector t = (IntVector) y.convert(VectorOperators.F2I, 0);
        FloatVector fraction = y.sub((FloatVector) t.convert(VectorOperators.I2F, 0));
        t = t.add(1, fraction.compare(VectorOperators.GE, 0.5f).cast(I))
                .sub(1, fraction.compare(VectorOperators.LT, -0.5f).cast(I));
        return (ByteVector) t.convertShape(VectorOperators.I2B, B, 0);
    }

    @Override
    void get(int slot, float[] dst, int offset) {
        byte[] block = blocks.get(slot / BLOCK);
        float[] d = scales.get(slot / BLOCK);
        int at = (slot % BLOCK) * width;
        for (int i = 0; i < width; i++) {
            dst[offset + i] = d[(slot % BLOCK) * groups + i / group] * block[at + i];
        }
    }

    /** Bytes and scales as they are: a copy never quantizes twice. */
    @Override
    void copy(int from, Rows target, int to, float[] scratch) {
        Q8Rows t = (Q8Rows) target;
        t.reach(to);
        System.arraycopy(blocks.get(from / BLOCK), (from % BLOCK) * width, t.blocks.get(to / BLOCK), (to % BLOCK) * width, width);
        System.arraycopy(scales.get(from / BLOCK), (from % BLOCK) * groups, t.scales.get(to / BLOCK), (to % BLOCK) * groups, groups);
    }

    @Override
    void dots(int from, int to, int offset, float[] q, int qOffset, int n, float scale, float[] out, int outOffset) {
        for (int s = from; s < to; ) {
            byte[] block = blocks.get(s / BLOCK);
            float[] d = scales.get(s / BLOCK);
            int end = Math.min(to, (s / BLOCK + 1) * BLOCK);
            for (; vectors && s + 2 <= end; s += 2) {
                dots2(q, qOffset, block, (s % BLOCK) * width + offset, d, (s % BLOCK) * groups + offset / group, n, scale, out, outOffset + s - from);
            }
            for (; s < end; s++) {
                out[outOffset + s - from] = dot(q, qOffset, block, (s % BLOCK) * width + offset, d, (s % BLOCK) * groups + offset / group, n) * scale;
            }
        }
    }

    /**
     * With whole vectors, a fused multiply-add per number and slot, in slot order, with four vectors of y
     * held in registers over all slots (a load and store of y per slot measured 2.3× slower, one head of a
     * 7B decode step); else {@link #axpy} per slot.
     */
    @Override
    void accumulate(float[] p, int pOffset, int from, int to, int offset, float[] y, int yOffset, int n) {
        if (vectors) {
            int lanes = F.length();
            int c = 0;
            for (; c + 4 * lanes <= n; c += 4 * lanes) {
                int g = (offset + c) / group;
                int g1 = (offset + c + lanes) / group;
                int g2 = (offset + c + 2 * lanes) / group;
                int g3 = (offset + c + 3 * lanes) / group;
                FloatVector y0 = FloatVector.fromArray(F, y, yOffset + c);
                FloatVector y1 = FloatVector.fromArray(F, y, yOffset + c + lanes);
                FloatVector y2 = FloatVector.fromArray(F, y, yOffset + c + 2 * lanes);
                FloatVector y3 = FloatVector.fromArray(F, y, yOffset + c + 3 * lanes);
                for (int s = from; s < to; ) {
                    byte[] block = blocks.get(s / BLOCK);
                    float[] d = scales.get(s / BLOCK);
                    for (int end = Math.min(to, (s / BLOCK + 1) * BLOCK); s < end; s++) {
                        float a = p[pOffset + s - from];
                        int at = (s % BLOCK) * width + offset + c;
                        int ds = (s % BLOCK) * groups;
                        y0 = floats(block, at).fma(FloatVector.broadcast(F, a * d[ds + g]), y0);
                        y1 = floats(block, at + lanes).fma(FloatVector.broadcast(F, a * d[ds + g1]), y1);
                        y2 = floats(block, at + 2 * lanes).fma(FloatVector.broadcast(F, a * d[ds + g2]), y2);
                        y3 = floats(block, at + 3 * lanes).fma(FloatVector.broadcast(F, a * d[ds + g3]), y3);
                    }
                }
                y0.intoArray(y, yOffset + c);
                y1.intoArray(y, yOffset + c + lanes);
                y2.intoArray(y, yOffset + c + 2 * lanes);
                y3.intoArray(y, yOffset + c + 3 * lanes);
            }
            for (; c < n; c += lanes) {
                int g = (offset + c) / group;
                FloatVector acc = FloatVector.fromArray(F, y, yOffset + c);
                for (int s = from; s < to; ) {
                    byte[] block = blocks.get(s / BLOCK);
                    float[] d = scales.get(s / BLOCK);
                    for (int end = Math.min(to, (s / BLOCK + 1) * BLOCK); s < end; s++) {
                        acc = floats(block, (s % BLOCK) * width + offset + c)
                                .fma(FloatVector.broadcast(F, p[pOffset + s - from] * d[(s % BLOCK) * groups + g]), acc);
                    }
                }
                acc.intoArray(y, yOffset + c);
            }
            return;
        }
        for (int s = from; s < to; ) {
            byte[] block = blocks.get(s / BLOCK);
            float[] d = scales.get(s / BLOCK);
            for (int end = Math.min(to, (s / BLOCK + 1) * BLOCK); s < end; s++) {
                axpy(p[pOffset + s - from], block, (s % BLOCK) * width + offset, d, (s % BLOCK) * groups + offset / group, y, yOffset, n);
            }
        }
    }

    /** Each key's bytes widened once, then dotted with every query that sees it. */
    @Override
    void dotsCausal(int pos, int count, int offset, float[] q, int n, float scale, float[] out, int keys) {
        if (!vectors) {
            super.dotsCausal(pos, count, offset, q, n, scale, out, keys);
            return;
        }
        Widened scratch = WIDENED.get();
        float[] w = scratch.floats = Buffers.grown(scratch.floats, n);
        for (int s = 0; s < pos + count; s++) {
            int at = widen(s, offset, n, w, 0);
            float[] d = scales.get(s / BLOCK);
            int t = Math.max(0, s - pos);
            for (; t + 2 <= count; t += 2) {
                dotsOfTwoQueries(q, t * n, w, d, at, n, scale, out, t * keys + s, keys);
            }
            for (; t < count; t++) {
                out[t * keys + s] = dot(q, t * n, w, d, at, n) * scale;
            }
        }
    }

    /**
     * Every value the block sees widened once, with its groups' scales; then each query sums them, four
     * vectors of its output at a time held in registers over all its slots: the adds of {@link #accumulate}
     * in the same order, without a load and store of the output per slot.
     */
    @Override
    void accumulateCausal(float[] p, int keys, int pos, int count, int offset, float[] y, int n) {
        if (!vectors) {
            super.accumulateCausal(p, keys, pos, count, offset, y, n);
            return;
        }
        int lanes = F.length();
        int headGroups = n / group;
        Widened scratch = WIDENED.get();
        float[] w = scratch.floats = Buffers.grown(scratch.floats, (pos + count) * n);
        float[] ds = scratch.scales = Buffers.grown(scratch.scales, (pos + count) * headGroups);
        for (int s = 0; s < pos + count; s++) {
            int at = widen(s, offset, n, w, s * n);
            System.arraycopy(scales.get(s / BLOCK), at, ds, s * headGroups, headGroups);
        }
        int t = 0;
        for (; t + 2 <= count; t += 2) {
            valuesOfTwoQueries(p, keys, pos + t + 1, t, w, ds, headGroups, y, n);
        }
        for (; t < count; t++) {
            int seen = pos + t + 1;
            for (int c = 0; c < n; c += lanes) {
                int g = c / group;
                FloatVector acc = FloatVector.fromArray(F, y, t * n + c);
                for (int s = 0; s < seen; s++) {
                    acc = FloatVector.fromArray(F, w, s * n + c).fma(FloatVector.broadcast(F, p[t * keys + s] * ds[s * headGroups + g]), acc);
                }
                acc.intoArray(y, t * n + c);
            }
        }
    }

    /**
     * Queries t and t + 1 of {@link #accumulateCausal}, seeing the slots before {@code seen} and before
     * seen + 1: two vectors of each output held in registers over the slots, every widened value loaded
     * once for both, and the slot only t + 1 sees added last. Each query's adds are those of one query
     * alone, in slot order.
     */
    private void valuesOfTwoQueries(float[] p, int keys, int seen, int t, float[] w, float[] ds, int headGroups, float[] y, int n) {
        int lanes = F.length();
        int a = t * keys;
        int b = a + keys;
        for (int c = 0; c < n; c += 2 * lanes) {
            int c1 = Math.min(c + lanes, n - lanes);
            int g0 = c / group;
            int g1 = c1 / group;
            FloatVector ya0 = FloatVector.fromArray(F, y, t * n + c);
            FloatVector ya1 = FloatVector.fromArray(F, y, t * n + c1);
            FloatVector yb0 = FloatVector.fromArray(F, y, (t + 1) * n + c);
            FloatVector yb1 = FloatVector.fromArray(F, y, (t + 1) * n + c1);
            boolean pair = c1 > c;
            for (int s = 0; s < seen; s++) {
                int d = s * headGroups;
                FloatVector v0 = FloatVector.fromArray(F, w, s * n + c);
                ya0 = v0.fma(FloatVector.broadcast(F, p[a + s] * ds[d + g0]), ya0);
                yb0 = v0.fma(FloatVector.broadcast(F, p[b + s] * ds[d + g0]), yb0);
                if (pair) {
                    FloatVector v1 = FloatVector.fromArray(F, w, s * n + c1);
                    ya1 = v1.fma(FloatVector.broadcast(F, p[a + s] * ds[d + g1]), ya1);
                    yb1 = v1.fma(FloatVector.broadcast(F, p[b + s] * ds[d + g1]), yb1);
                }
            }
            int d = seen * headGroups;
            yb0 = FloatVector.fromArray(F, w, seen * n + c).fma(FloatVector.broadcast(F, p[b + seen] * ds[d + g0]), yb0);
            if (pair) {
                yb1 = FloatVector.fromArray(F, w, seen * n + c1).fma(FloatVector.broadcast(F, p[b + seen] * ds[d + g1]), yb1);
            }
            ya0.intoArray(y, t * n + c);
            yb0.intoArray(y, (t + 1) * n + c);
            if (pair) {
                ya1.intoArray(y, t * n + c1);
                yb1.intoArray(y, (t + 1) * n + c1);
            }
        }
    }

    /** Widened keys or values and their scales, per thread (kv heads attend concurrently). */
    private static final class Widened {
        float[] floats = new float[0];
        float[] scales = new float[0];
    }

    private static final ThreadLocal<Widened> WIDENED = ThreadLocal.withInitial(Widened::new);

    /**
     * w[to, to + n) = the bytes of slot s from offset, as floats (exact); returns the index of their first
     * group's scale in the slot's block of scales.
     */
    private int widen(int s, int offset, int n, float[] w, int to) {
        byte[] block = blocks.get(s / BLOCK);
        int from = (s % BLOCK) * width + offset;
        for (int i = 0; i < n; i += F.length()) {
            floats(block, from + i).intoArray(w, to + i);
        }
        return (s % BLOCK) * groups + offset / group;
    }

    /** As {@link #dot}, with the key already widened: the same products in the same order. */
    private float dot(float[] q, int qOffset, float[] w, float[] d, int dOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < n / group; g++) {
            FloatVector part = FloatVector.zero(F);
            for (int i = g * group; i < (g + 1) * group; i += F.length()) {
                part = FloatVector.fromArray(F, w, i).fma(FloatVector.fromArray(F, q, qOffset + i), part);
            }
            acc = part.fma(FloatVector.broadcast(F, d[dOffset + g]), acc);
        }
        return Lanes.sum(acc);
    }

    /**
     * {@link #dot} of two consecutive queries (n apart) with one widened key, times scale, into out[o] and
     * out[o + stride]: the same operations for each, interleaved, each vector of the key loaded once.
     */
    private void dotsOfTwoQueries(float[] q, int qOffset, float[] w, float[] d, int dOffset, int n, float scale, float[] out, int o, int stride) {
        FloatVector accA = FloatVector.zero(F);
        FloatVector accB = accA;
        for (int g = 0; g < n / group; g++) {
            FloatVector partA = FloatVector.zero(F);
            FloatVector partB = partA;
            for (int i = g * group; i < (g + 1) * group; i += F.length()) {
                FloatVector x = FloatVector.fromArray(F, w, i);
                partA = x.fma(FloatVector.fromArray(F, q, qOffset + i), partA);
                partB = x.fma(FloatVector.fromArray(F, q, qOffset + n + i), partB);
            }
            FloatVector dg = FloatVector.broadcast(F, d[dOffset + g]);
            accA = partA.fma(dg, accA);
            accB = partB.fma(dg, accB);
        }
        out[o] = Lanes.sum(accA) * scale;
        out[o + stride] = Lanes.sum(accB) * scale;
    }

    @Override
    int blocks() {
        return blocks.size();
    }

    @Override
    void truncate(int keep) {
        int k = Math.min(keep, blocks.size());
        blocks.subList(k, blocks.size()).clear();
        scales.subList(k, scales.size()).clear();
    }

    /** Σ q[i] · d[g(i)] · k[i] over n numbers of whole groups, starting at a group boundary. */
    private float dot(float[] q, int qOffset, byte[] k, int kOffset, float[] d, int dOffset, int n) {
        if (!vectors) {
            float sum = 0f;
            for (int g = 0; g < n / group; g++) {
                float part = 0f;
                for (int i = g * group; i < (g + 1) * group; i++) {
                    part += q[qOffset + i] * k[kOffset + i];
                }
                sum += d[dOffset + g] * part;
            }
            return sum;
        }
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < n / group; g++) {
            FloatVector part = FloatVector.zero(F);
            for (int i = g * group; i < (g + 1) * group; i += F.length()) {
                part = floats(k, kOffset + i).fma(FloatVector.fromArray(F, q, qOffset + i), part);
            }
            acc = part.fma(FloatVector.broadcast(F, d[dOffset + g]), acc);
        }
        return Lanes.sum(acc);
    }

    /** The bytes x[at, at + F.length()) as floats (exact). */
    private static FloatVector floats(byte[] x, int at) {
        return (FloatVector) ByteVector.fromArray(B, x, at).convertShape(VectorOperators.B2F, F, 0);
    }

    /**
     * {@link #dot} of two consecutive slots, times scale, into out[o] and out[o + 1]: the same operations in
     * the same order for each, interleaved so that one slot's chain of fused multiply-adds fills the other's
     * latency (a dot at a time measured 1.3× slower).
     */
    private void dots2(float[] q, int qOffset, byte[] k, int kOffset, float[] d, int dOffset, int n, float scale, float[] out, int o) {
        FloatVector accA = FloatVector.zero(F);
        FloatVector accB = accA;
        for (int g = 0; g < n / group; g++) {
            FloatVector partA = FloatVector.zero(F);
            FloatVector partB = partA;
            for (int i = g * group; i < (g + 1) * group; i += F.length()) {
                FloatVector x = FloatVector.fromArray(F, q, qOffset + i);
                partA = floats(k, kOffset + i).fma(x, partA);
                partB = floats(k, kOffset + width + i).fma(x, partB);
            }
            accA = partA.fma(FloatVector.broadcast(F, d[dOffset + g]), accA);
            accB = partB.fma(FloatVector.broadcast(F, d[dOffset + groups + g]), accB);
        }
        out[o] = Lanes.sum(accA) * scale;
        out[o + 1] = Lanes.sum(accB) * scale;
    }

    /** y += a · x over n numbers of whole groups of x, starting at a group boundary; without vectors. */
    private void axpy(float a, byte[] x, int xOffset, float[] d, int dOffset, float[] y, int yOffset, int n) {
        for (int g = 0; g < n / group; g++) {
            float ad = a * d[dOffset + g];
            for (int i = g * group; i < (g + 1) * group; i++) {
                y[yOffset + i] += ad * x[xOffset + i];
            }
        }
    }
}
