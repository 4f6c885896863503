package dev.binmos.engine.train;

import dev.binmos.engine.binarymos.Binarizer;
import dev.binmos.engine.binarymos.BinaryMosLinear;
import dev.binmos.engine.binarymos.PackedSigns;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.LayerWeights;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.model.Weights;
import java.util.ArrayList;
import java.util.List;

/**
 * The trainable half of a BinaryMoS student: one {@link MosWeights} per block linear, indexed
 * [layer][linear] in {@link Teacher#LINEARS} order. Gradients and AdamW moments are Students too.
 */
public final class Student {
    final int experts;
    final MosWeights[][] linears;

    Student(int experts, MosWeights[][] linears) {
        this.experts = experts;
        this.linears = linears;
    }

    /**
     * With {@link TrainOptions.Init#SVD}, the student {@code binmos binarize --seed seed} writes, with the
     * latent weights kept: latent = W, every expert's S_out = a and S_in = b from the rank-1 SVD of |W|,
     * routers from the seed. With {@link TrainOptions.Init#MEAN_ABS}, S_in = 1 and S_out = mean|W| instead.
     */
    static Student init(Teacher teacher, int experts, TrainOptions.Init scales, long seed) {
        Configuration c = teacher.config;
        MosWeights[][] linears = new MosWeights[c.layers()][Teacher.LINEARS.size()];
        for (int l = 0; l < c.layers(); l++) {
            for (int i = 0; i < linears[l].length; i++) {
                float[] w = teacher.weights[l][i];
                int out = teacher.out(i);
                int in = teacher.in(i);
                BinaryMosLinear init = Binarizer.binarize(w, out, in, experts, Binarizer.routerSeed(seed, l, Teacher.LINEARS.get(i)));
                MosWeights weights = new MosWeights(out, in, experts, w.clone(), init.router().clone(), init.sIn().clone(), init.sOut().clone());
                if (scales == TrainOptions.Init.MEAN_ABS) {
                    java.util.Arrays.fill(weights.sIn(), 1f);
                    java.util.Arrays.fill(weights.sOut(), meanAbs(w));
                }
                linears[l][i] = weights;
            }
        }
        return new Student(experts, linears);
    }

    private static float meanAbs(float[] w) {
        double sum = 0;
        for (float v : w) {
            sum += Math.abs(v);
        }
        return (float) (sum / w.length);
    }

    public int experts() {
        return experts;
    }

    Student zerosLike() {
        MosWeights[][] z = new MosWeights[linears.length][];
        for (int l = 0; l < linears.length; l++) {
            z[l] = new MosWeights[linears[l].length];
            for (int i = 0; i < linears[l].length; i++) {
                z[l][i] = linears[l][i].zerosLike();
            }
        }
        return new Student(experts, z);
    }

    /** Every array, in a fixed order: layer, linear, then latent, router, S_in, S_out. */
    List<float[]> arrays() {
        List<float[]> all = new ArrayList<>();
        for (MosWeights[] layer : linears) {
            for (MosWeights w : layer) {
                all.addAll(List.of(w.arrays()));
            }
        }
        return all;
    }

    /** sign(latent) of every linear, for one step's forward and backward passes. */
    Signs[][] signs() {
        Signs[][] s = new Signs[linears.length][];
        for (int l = 0; l < linears.length; l++) {
            s[l] = new Signs[linears[l].length];
            for (int i = 0; i < linears[l].length; i++) {
                s[l][i] = Signs.of(linears[l][i]);
            }
        }
        return s;
    }

    /** The linear as the inference engine runs it: packed signs, copies of router and scales. */
    BinaryMosLinear packed(int layer, int linear) {
        MosWeights w = linears[layer][linear];
        return new BinaryMosLinear(PackedSigns.pack(w.latent(), w.out(), w.in()), w.router().clone(), w.sIn().clone(),
                w.sOut().clone(), experts);
    }

    /** The student as an inference model: the teacher's embeddings, norms and classifier, packed BinaryMoS linears. */
    public Llama toLlama(Llama teacher) {
        LayerWeights[] layers = new LayerWeights[linears.length];
        for (int l = 0; l < layers.length; l++) {
            LayerWeights t = teacher.weights().layers()[l];
            layers[l] = new LayerWeights(t.attnNorm(), packed(l, 0), packed(l, 1), packed(l, 2), packed(l, 3),
                    t.ffnNorm(), packed(l, 4), packed(l, 5), packed(l, 6));
        }
        Weights w = teacher.weights();
        return new Llama(teacher.config(), teacher.tokenizer(), new Weights(w.tokenEmbeddings(), layers, w.finalNorm(), w.classifier()),
                teacher.source());
    }
}
