package dev.binmos.engine.train;

import dev.binmos.engine.format.LlamaTensors;
import dev.binmos.engine.format.LlamaTensors.Part;
import dev.binmos.engine.linear.DenseLinear;
import dev.binmos.engine.linear.Linear;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.Llama;
import java.util.List;

/**
 * The full-precision model copied onto the heap as flat arrays: the teacher's block weights, and the
 * parts the student shares and never trains (embeddings, norms, classifier). Block weights are kept
 * transposed ([in, out]), the layout {@link Matmul} multiplies by.
 */
final class Teacher {
    static final List<Part> LINEARS = Part.linears();

    final Configuration config;
    final float[] embeddings;
    final float[][] attnNorm;
    final float[][] ffnNorm;
    final float[] finalNorm;
    /** [vocab, dim] and its transpose [dim, vocab]. */
    final float[] classifier;
    final float[] classifierT;
    /** [layer][linear] → W [out, in] as in the model. */
    final float[][][] weights;
    /** [layer][linear] → Wᵀ [in, out]. */
    final float[][][] weightsT;

    Teacher(Llama model) {
        this.config = model.config();
        Configuration c = config;
        embeddings = model.weights().tokenEmbeddings().toFloatArray();
        attnNorm = new float[c.layers()][];
        ffnNorm = new float[c.layers()][];
        weights = new float[c.layers()][LINEARS.size()][];
        weightsT = new float[c.layers()][LINEARS.size()][];
        for (int l = 0; l < c.layers(); l++) {
            attnNorm[l] = model.weights().layers()[l].attnNorm().clone();
            ffnNorm[l] = model.weights().layers()[l].ffnNorm().clone();
            for (int i = 0; i < LINEARS.size(); i++) {
                DenseLinear dense = dense(LlamaTensors.linear(model.weights().layers()[l], LINEARS.get(i)), "layer " + l + " " + LINEARS.get(i));
                weights[l][i] = dense.toFloatArray();
                weightsT[l][i] = Matmul.transpose(weights[l][i], dense.outFeatures(), dense.inFeatures());
            }
        }
        finalNorm = model.weights().finalNorm().clone();
        classifier = dense(model.weights().classifier(), "classifier").toFloatArray();
        classifierT = Matmul.transpose(classifier, c.vocabSize(), c.dim());
    }

    private static DenseLinear dense(Linear linear, String what) {
        if (!(linear instanceof DenseLinear dense)) {
            throw new IllegalArgumentException("the teacher's " + what + " is " + linear.getClass().getSimpleName()
                    + ": distillation needs a full-precision (dense) teacher");
        }
        return dense;
    }

    /** Output features of linear i (in {@link #LINEARS} order). */
    int out(int linear) {
        return switch (LINEARS.get(linear)) {
            case K, V -> config.kvDim();
            case GATE, UP -> config.hiddenDim();
            default -> config.dim();
        };
    }

    int in(int linear) {
        return LINEARS.get(linear) == Part.DOWN ? config.hiddenDim() : config.dim();
    }
}
