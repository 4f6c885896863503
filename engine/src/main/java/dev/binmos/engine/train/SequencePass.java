package dev.binmos.engine.train;

import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.model.Configuration;
import java.util.Arrays;

/**
 * One worker's forward and backward passes over single sequences (positions 0 … T−1), with every
 * buffer allocated once for the longest sequence. A training step runs the teacher, then the student
 * with its activations kept, then the loss and the student's backward pass, adding into a gradient.
 */
final class SequencePass {
    static final int Q = 0;
    static final int K = 1;
    static final int V = 2;
    static final int O = 3;
    static final int GATE = 4;
    static final int UP = 5;
    static final int DOWN = 6;

    /** Distillation losses of one sequence, as sums over its tokens (KL) and elements (squared error). */
    record Losses(double kl, double squaredError) {
    }

    /** A block linear of the model being run: y [T, out] = linear(x [T, in]). */
    @FunctionalInterface
    private interface Linears {
        void apply(int layer, int linear, float[] x, float[] y, int tokens, LayerActivations acts);
    }

    private final Teacher teacher;
    private final Configuration c;
    private final int maxTokens;
    private final Rope rope;
    private final Attention attention;
    private final LayerActivations[] acts;
    private final LayerActivations[] teacherActs;
    private final float[][] hidden;
    private final float[][] teacherHidden;
    private final float[] logits;
    private final float[] teacherLogits;
    private final float[] dLogits;
    private final float[] vocabScratch;
    private final float[] normed;
    private final float[] rms;
    private final float[] dx;
    private final float[] dn;
    private final float[] datt;
    private final float[] dq;
    private final float[] dk;
    private final float[] dv;
    private final float[] dh;
    private final float[] da;
    private final float[] db;
    private final float[] tmp;
    /** Every layer's q and k after RoPE, and their gradients from borrowing layers, for PoD. */
    private final float[][] qs;
    private final float[][] ks;
    private final float[][] dAnchorQ;
    private final float[][] dAnchorK;
    private final MosLinear.Scratch scratch;

    SequencePass(Teacher teacher, int experts, int maxTokens) {
        this.teacher = teacher;
        this.c = teacher.config;
        this.maxTokens = maxTokens;
        if (maxTokens > c.contextLength()) {
            throw new IllegalArgumentException("sequences of " + maxTokens + " tokens exceed the model's context " + c.contextLength());
        }
        int layers = c.layers();
        int dim = maxTokens * c.dim();
        int kv = maxTokens * c.kvDim();
        int hiddenDim = maxTokens * c.hiddenDim();
        int vocab = maxTokens * c.vocabSize();
        rope = new Rope(c.headSize(), c.ropeTheta(), maxTokens);
        attention = new Attention(c.dim(), c.heads(), c.kvHeads(), maxTokens);
        acts = new LayerActivations[layers];
        for (int l = 0; l < layers; l++) {
            acts[l] = new LayerActivations(c, maxTokens, teacher, experts);
        }
        // the teacher keeps nothing for a backward pass: one block's buffers serve every layer
        teacherActs = new LayerActivations[layers];
        Arrays.fill(teacherActs, new LayerActivations(c, maxTokens, teacher, 0));
        hidden = new float[layers + 1][dim];
        teacherHidden = new float[layers + 1][dim];
        logits = new float[vocab];
        teacherLogits = new float[vocab];
        dLogits = new float[vocab];
        vocabScratch = new float[c.vocabSize()];
        normed = new float[dim];
        rms = new float[maxTokens];
        dx = new float[dim];
        dn = new float[dim];
        datt = new float[dim];
        dq = new float[dim];
        dk = new float[kv];
        dv = new float[kv];
        dh = new float[hiddenDim];
        da = new float[hiddenDim];
        db = new float[hiddenDim];
        tmp = new float[Math.max(dim, hiddenDim)];
        qs = new float[layers][];
        ks = new float[layers][];
        for (int l = 0; l < layers; l++) {
            qs[l] = acts[l].q;
            ks[l] = acts[l].k;
        }
        dAnchorQ = new float[layers][dim];
        dAnchorK = new float[layers][kv];
        scratch = new MosLinear.Scratch(maxTokens, Math.max(c.dim(), c.hiddenDim()), experts);
    }

    /**
     * Runs teacher and student on one sequence and adds the student's gradients into grad.
     *
     * @param sequences sequences in the batch: the KL, summed over positions, is a mean over them
     *                  (PyTorch's "batchmean", as the paper's trainer has it)
     * @param elements  tokens × dim of the batch: each layer's squared error is a mean over them
     * @param lambda    weight of the hidden-state term
     */
    Losses train(Student student, Signs[][] signs, int[] tokens, PodLayout pod, double sequences, double elements, double lambda,
                 Student grad) {
        int t = check(tokens);
        forward(tokens, t, this::teacherLinear, teacherActs, teacherHidden, teacherLogits, null);
        forward(tokens, t, studentLinears(student, signs), acts, hidden, logits, pod);
        double kl = Distillation.kl(teacherLogits, logits, t, c.vocabSize(), sequences, dLogits, vocabScratch);
        double squaredError = backward(student, signs, t, pod, elements, lambda, grad);
        return new Losses(kl, squaredError);
    }

    /** The student's logits [T, vocab] (a view of this pass's buffer, valid until the next call). */
    float[] studentLogits(Student student, Signs[][] signs, int[] tokens, PodLayout pod) {
        forward(tokens, check(tokens), studentLinears(student, signs), acts, hidden, logits, pod);
        return logits;
    }

    /** The teacher's logits [T, vocab] (a view, as above). */
    float[] teacherLogits(int[] tokens) {
        forward(tokens, check(tokens), this::teacherLinear, teacherActs, teacherHidden, teacherLogits, null);
        return teacherLogits;
    }

    private int check(int[] tokens) {
        if (tokens.length < 1 || tokens.length > maxTokens) {
            throw new IllegalArgumentException("a sequence of " + tokens.length + " tokens; this pass takes 1 to " + maxTokens);
        }
        return tokens.length;
    }

    private void teacherLinear(int layer, int linear, float[] x, float[] y, int tokens, LayerActivations unused) {
        Matmul.mul(x, teacher.weightsT[layer][linear], y, tokens, teacher.in(linear), teacher.out(linear), false);
    }

    private static Linears studentLinears(Student student, Signs[][] signs) {
        return (layer, linear, x, y, tokens, a) ->
                MosLinear.forward(student.linears[layer][linear], signs[layer][linear], x, tokens, y, a.linears[linear]);
    }

    private void forward(int[] tokens, int t, Linears linears, LayerActivations[] acts, float[][] hidden, float[] logits, PodLayout pod) {
        int dim = c.dim();
        int n = t * dim;
        for (int i = 0; i < t; i++) {
            if (tokens[i] < 0 || tokens[i] >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " outside the vocabulary [0, " + c.vocabSize() + ")");
            }
            System.arraycopy(teacher.embeddings, tokens[i] * dim, hidden[0], i * dim, dim);
        }
        for (int l = 0; l < c.layers(); l++) {
            LayerActivations a = acts[l];
            float[] x = hidden[l];
            RmsNorm.forward(x, teacher.attnNorm[l], c.normEps(), t, a.n1, a.r1);
            linears.apply(l, Q, a.n1, a.q, t, a);
            linears.apply(l, K, a.n1, a.k, t, a);
            linears.apply(l, V, a.n1, a.v, t, a);
            rope.forward(a.q, t, dim);
            rope.forward(a.k, t, c.kvDim());
            attention.forward(a.q, a.k, a.v, t, a.att, pod == null ? null : borrowing(pod, l));
            linears.apply(l, O, a.att, tmp, t, a);
            for (int i = 0; i < n; i++) {
                a.xMid[i] = x[i] + tmp[i];
            }
            RmsNorm.forward(a.xMid, teacher.ffnNorm[l], c.normEps(), t, a.n2, a.r2);
            linears.apply(l, GATE, a.n2, a.a, t, a);
            linears.apply(l, UP, a.n2, a.b, t, a);
            SwiGlu.forward(a.a, a.b, a.h, t * c.hiddenDim());
            linears.apply(l, DOWN, a.h, tmp, t, a);
            float[] next = hidden[l + 1];
            for (int i = 0; i < n; i++) {
                next[i] = a.xMid[i] + tmp[i];
            }
        }
        RmsNorm.forward(hidden[c.layers()], teacher.finalNorm, c.normEps(), t, normed, rms);
        Matmul.mul(normed, teacher.classifierT, logits, t, dim, c.vocabSize(), false);
    }

    /** PoD of the student's layer: its anchors' q and k are those of this pass. */
    private Attention.Borrowing borrowing(PodLayout pod, int layer) {
        return new Attention.Borrowing(pod, layer, qs, ks, dAnchorQ, dAnchorK);
    }

    /** Backward from dLogits and the hidden-state targets; returns Σ_layers Σ (student − teacher)². */
    private double backward(Student student, Signs[][] signs, int t, PodLayout pod, double elements, double lambda, Student grad) {
        int dim = c.dim();
        int n = t * dim;
        int kvN = t * c.kvDim();
        int hN = t * c.hiddenDim();
        int layers = c.layers();
        for (int l = 0; l < layers; l++) {
            Arrays.fill(dAnchorQ[l], 0, n, 0f);
            Arrays.fill(dAnchorK[l], 0, kvN, 0f);
        }
        Matmul.mul(dLogits, teacher.classifier, dn, t, c.vocabSize(), dim, false);
        Arrays.fill(dx, 0, n, 0f);
        RmsNorm.backward(dn, hidden[layers], teacher.finalNorm, rms, t, dx);
        double squaredError = 0;
        for (int l = layers - 1; l >= 0; l--) {
            LayerActivations a = acts[l];
            MosWeights[] w = student.linears[l];
            MosWeights[] g = grad.linears[l];
            Signs[] s = signs[l];
            squaredError += Distillation.squaredError(hidden[l + 1], teacherHidden[l + 1], n, lambda, elements, dx);
            // MLP: dx is the gradient of the block output, and of xMid through the residual
            Arrays.fill(dh, 0, hN, 0f);
            MosLinear.backward(w[DOWN], s[DOWN], a.h, dx, t, a.linears[DOWN], scratch, dh, g[DOWN]);
            SwiGlu.backward(dh, a.a, a.b, da, db, hN);
            Arrays.fill(dn, 0, n, 0f);
            MosLinear.backward(w[GATE], s[GATE], a.n2, da, t, a.linears[GATE], scratch, dn, g[GATE]);
            MosLinear.backward(w[UP], s[UP], a.n2, db, t, a.linears[UP], scratch, dn, g[UP]);
            RmsNorm.backward(dn, a.xMid, teacher.ffnNorm[l], a.r2, t, dx);
            // attention: dx is now the gradient of xMid, and of the block input through the residual
            Arrays.fill(datt, 0, n, 0f);
            MosLinear.backward(w[O], s[O], a.att, dx, t, a.linears[O], scratch, datt, g[O]);
            System.arraycopy(dAnchorQ[l], 0, dq, 0, n);
            System.arraycopy(dAnchorK[l], 0, dk, 0, kvN);
            Arrays.fill(dv, 0, kvN, 0f);
            attention.backward(a.q, a.k, a.v, datt, t, dq, dk, dv, pod == null ? null : borrowing(pod, l));
            rope.backward(dq, t, dim);
            rope.backward(dk, t, c.kvDim());
            Arrays.fill(dn, 0, n, 0f);
            MosLinear.backward(w[Q], s[Q], a.n1, dq, t, a.linears[Q], scratch, dn, g[Q]);
            MosLinear.backward(w[K], s[K], a.n1, dk, t, a.linears[K], scratch, dn, g[K]);
            MosLinear.backward(w[V], s[V], a.n1, dv, t, a.linears[V], scratch, dn, g[V]);
            RmsNorm.backward(dn, hidden[l], teacher.attnNorm[l], a.r1, t, dx);
        }
        return squaredError;
    }
}
