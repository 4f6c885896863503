package dev.binmos.engine.train;

import dev.binmos.engine.linear.DenseLinear;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.LayerWeights;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.model.Weights;
import dev.binmos.engine.tensor.ArrayTensor;
import java.util.SplittableRandom;

/** A random Llama small enough for finite differences over every parameter. */
final class TinyModel {
    private TinyModel() {
    }

    static Llama random(int layers, long seed) {
        Configuration c = new Configuration(8, 12, layers, 2, 1, 16, 16, 10000f, 1e-5f);
        SplittableRandom random = new SplittableRandom(seed);
        LayerWeights[] blocks = new LayerWeights[layers];
        for (int l = 0; l < layers; l++) {
            blocks[l] = new LayerWeights(norm(random, c.dim()),
                    linear(random, c.dim(), c.dim()), linear(random, c.kvDim(), c.dim()),
                    linear(random, c.kvDim(), c.dim()), linear(random, c.dim(), c.dim()),
                    norm(random, c.dim()),
                    linear(random, c.hiddenDim(), c.dim()), linear(random, c.hiddenDim(), c.dim()),
                    linear(random, c.dim(), c.hiddenDim()));
        }
        ArrayTensor embeddings = new ArrayTensor(GradCheck.gaussian(random, c.vocabSize() * c.dim(), 1));
        Weights w = new Weights(embeddings, blocks, norm(random, c.dim()),
                new DenseLinear(new ArrayTensor(GradCheck.gaussian(random, c.vocabSize() * c.dim(), 0.5)), c.vocabSize(), c.dim()));
        return new Llama(c, null, w, null);
    }

    private static float[] norm(SplittableRandom random, int n) {
        float[] w = GradCheck.gaussian(random, n, 0.2);
        for (int i = 0; i < n; i++) {
            w[i] += 1f;
        }
        return w;
    }

    private static DenseLinear linear(SplittableRandom random, int out, int in) {
        return new DenseLinear(new ArrayTensor(GradCheck.gaussian(random, out * in, 1 / Math.sqrt(in))), out, in);
    }
}
