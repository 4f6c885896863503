package dev.binmos.engine.train;

/**
 * sign(W) of the latent weights as ±1 floats, row-major [out, in] and transposed [in, out], rebuilt
 * after every optimizer step; sign(0) = +1 as in the packed format.
 */
final class Signs {
    final float[] rows;
    final float[] columns;

    Signs(float[] rows, float[] columns) {
        this.rows = rows;
        this.columns = columns;
    }

    static Signs of(MosWeights w) {
        float[] b = new float[w.latent().length];
        for (int i = 0; i < b.length; i++) {
            b[i] = w.latent()[i] < 0f ? -1f : 1f;
        }
        return new Signs(b, Matmul.transpose(b, w.out(), w.in()));
    }
}
