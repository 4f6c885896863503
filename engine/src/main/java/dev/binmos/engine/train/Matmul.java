package dev.binmos.engine.train;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one matrix product of training: C [rows, n] (+)= A · M with M [inner, n] row-major and A read
 * through strides, so Aᵀ needs no copy. Each row of C is built from a few vector accumulators kept in
 * registers over the whole inner loop (axpy form), which suits the short inner dimensions of small models.
 */
final class Matmul {
    private static final VectorSpecies<Float> S = Vec.S;
    private static final int L = S.length();

    private Matmul() {
    }

    /** C = A · M with A [rows, inner] row-major. */
    static void mul(float[] a, float[] m, float[] c, int rows, int inner, int n, boolean accumulate) {
        mul(a, inner, 1, m, c, rows, inner, n, accumulate);
    }

    /** C = Aᵀ · M with A [inner, rows] row-major. */
    static void mulTransposed(float[] a, float[] m, float[] c, int rows, int inner, int n, boolean accumulate) {
        mul(a, 1, rows, m, c, rows, inner, n, accumulate);
    }

    /** C[r, j] (+)= Σ_k a[r·rowStride + k·innerStride] · m[k·n + j]. */
    static void mul(float[] a, int rowStride, int innerStride, float[] m, float[] c,
                    int rows, int inner, int n, boolean accumulate) {
        for (int r = 0; r < rows; r++) {
            row(a, r * rowStride, innerStride, m, 0, n, c, r * n, inner, n, accumulate);
        }
    }

    /**
     * One row: c[cOff + j] (+)= Σ_k a[aOff + k·aStride] · m[mOff + k·ldm + j] for j in [0, n), e.g. the
     * attention logits of one query over a run of positions of transposed keys.
     */
    static void row(float[] a, int aOff, int aStride, float[] m, int mOff, int ldm, float[] c, int cOff,
                    int inner, int n, boolean accumulate) {
        int j = 0;
        for (; j + 4 * L <= n; j += 4 * L) {
            FloatVector c0 = start(c, cOff + j, accumulate);
            FloatVector c1 = start(c, cOff + j + L, accumulate);
            FloatVector c2 = start(c, cOff + j + 2 * L, accumulate);
            FloatVector c3 = start(c, cOff + j + 3 * L, accumulate);
            for (int k = 0, mk = mOff + j, ak = aOff; k < inner; k++, mk += ldm, ak += aStride) {
                FloatVector av = FloatVector.broadcast(S, a[ak]);
                c0 = FloatVector.fromArray(S, m, mk).fma(av, c0);
                c1 = FloatVector.fromArray(S, m, mk + L).fma(av, c1);
                c2 = FloatVector.fromArray(S, m, mk + 2 * L).fma(av, c2);
                c3 = FloatVector.fromArray(S, m, mk + 3 * L).fma(av, c3);
            }
            c0.intoArray(c, cOff + j);
            c1.intoArray(c, cOff + j + L);
            c2.intoArray(c, cOff + j + 2 * L);
            c3.intoArray(c, cOff + j + 3 * L);
        }
        for (; j < n; j += L) {
            VectorMask<Float> mask = S.indexInRange(j, n);
            FloatVector acc = accumulate ? FloatVector.fromArray(S, c, cOff + j, mask) : FloatVector.zero(S);
            for (int k = 0, mk = mOff + j, ak = aOff; k < inner; k++, mk += ldm, ak += aStride) {
                acc = FloatVector.fromArray(S, m, mk, mask).fma(FloatVector.broadcast(S, a[ak]), acc);
            }
            acc.intoArray(c, cOff + j, mask);
        }
    }

    private static FloatVector start(float[] c, int offset, boolean accumulate) {
        return accumulate ? FloatVector.fromArray(S, c, offset) : FloatVector.zero(S);
    }

    /** [rows, cols] → [cols, rows]. */
    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }
}
