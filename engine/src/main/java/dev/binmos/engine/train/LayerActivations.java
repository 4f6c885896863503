package dev.binmos.engine.train;

import dev.binmos.engine.model.Configuration;

/** What the forward pass of one decoder block keeps for its backward pass, sized for the longest sequence. */
final class LayerActivations {
    final float[] n1;
    final float[] r1;
    /** q and k after RoPE. */
    final float[] q;
    final float[] k;
    final float[] v;
    final float[] att;
    final float[] xMid;
    final float[] n2;
    final float[] r2;
    final float[] a;
    final float[] b;
    final float[] h;
    /** Per linear, null for a teacher's (dense) block. */
    final MosLinear.Saved[] linears;

    LayerActivations(Configuration c, int tokens, Teacher shapes, int experts) {
        int dim = tokens * c.dim();
        int hidden = tokens * c.hiddenDim();
        n1 = new float[dim];
        r1 = new float[tokens];
        q = new float[dim];
        k = new float[tokens * c.kvDim()];
        v = new float[tokens * c.kvDim()];
        att = new float[dim];
        xMid = new float[dim];
        n2 = new float[dim];
        r2 = new float[tokens];
        a = new float[hidden];
        b = new float[hidden];
        h = new float[hidden];
        if (experts == 0) {
            linears = null;
        } else {
            linears = new MosLinear.Saved[Teacher.LINEARS.size()];
            for (int i = 0; i < linears.length; i++) {
                linears[i] = new MosLinear.Saved(tokens, shapes.in(i), shapes.out(i), experts);
            }
        }
    }
}
