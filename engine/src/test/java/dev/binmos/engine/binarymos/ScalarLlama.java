package dev.binmos.engine.binarymos;

import dev.binmos.engine.model.Configuration;

/**
 * A test oracle: the Llama forward pass with plain scalar loops in double, independent of CpuBackend and of
 * the kernels, over linears given as functions. RoPE is either interleaved (GGUF) or rotate-half (Hugging
 * Face), so a checkpoint can be computed in its own layout.
 */
final class ScalarLlama {

    /** y = f(x) for one token. */
    interface Lin {
        double[] apply(double[] x);
    }

    /** The linears of a block, in the order q, k, v, o, gate, up, down. */
    interface Block {
        Lin linear(int index);
    }

    private final Configuration c;
    private final float[] embeddings;
    private final float[][] attnNorm;
    private final float[][] ffnNorm;
    private final float[] finalNorm;
    private final Block[] blocks;
    private final float[] classifier;
    private final boolean rotateHalf;

    ScalarLlama(Configuration c, float[] embeddings, float[][] attnNorm, float[][] ffnNorm, float[] finalNorm,
                Block[] blocks, float[] classifier, boolean rotateHalf) {
        this.c = c;
        this.embeddings = embeddings;
        this.attnNorm = attnNorm;
        this.ffnNorm = ffnNorm;
        this.finalNorm = finalNorm;
        this.blocks = blocks;
        this.classifier = classifier;
        this.rotateHalf = rotateHalf;
    }

    /** BinaryMoS: g = softmax(x·routerᵀ), y[o] = (g·S_out)[o] · Σ_i sign[o][i] · x[i] · (g·S_in)[i]. */
    static Lin binaryMos(float[] signs, float[] router, float[] sIn, float[] sOut, int experts, int out, int in) {
        return x -> {
            double[] g = new double[experts];
            double max = Double.NEGATIVE_INFINITY;
            for (int e = 0; e < experts; e++) {
                for (int i = 0; i < in; i++) {
                    g[e] += router[e * in + i] * x[i];
                }
                max = Math.max(max, g[e]);
            }
            double sum = 0;
            for (int e = 0; e < experts; e++) {
                g[e] = Math.exp(g[e] - max);
                sum += g[e];
            }
            double[] xs = new double[in];
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int e = 0; e < experts; e++) {
                    s += g[e] / sum * sIn[e * in + i];
                }
                xs[i] = x[i] * s;
            }
            double[] y = new double[out];
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int e = 0; e < experts; e++) {
                    s += g[e] / sum * sOut[e * out + o];
                }
                double dot = 0;
                for (int i = 0; i < in; i++) {
                    dot += signs[o * in + i] * xs[i];
                }
                y[o] = dot * s;
            }
            return y;
        };
    }

    /** Logits [tokens · vocab] of every position. */
    float[] logits(int[] tokens) {
        int dim = c.dim();
        int hs = c.headSize();
        int layers = c.layers();
        double[][][] keys = new double[layers][tokens.length][];
        double[][][] values = new double[layers][tokens.length][];
        float[] logits = new float[tokens.length * c.vocabSize()];
        for (int t = 0; t < tokens.length; t++) {
            double[] x = new double[dim];
            for (int i = 0; i < dim; i++) {
                x[i] = embeddings[tokens[t] * dim + i];
            }
            for (int l = 0; l < layers; l++) {
                Block b = blocks[l];
                double[] xb = rmsnorm(x, attnNorm[l]);
                double[] q = b.linear(0).apply(xb);
                double[] k = b.linear(1).apply(xb);
                values[l][t] = b.linear(2).apply(xb);
                rope(q, t);
                rope(k, t);
                keys[l][t] = k;
                double[] att = new double[dim];
                for (int h = 0; h < c.heads(); h++) {
                    int kvOff = h / c.groupSize() * hs;
                    double[] scores = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int s = 0; s <= t; s++) {
                        for (int i = 0; i < hs; i++) {
                            scores[s] += q[h * hs + i] * keys[l][s][kvOff + i];
                        }
                        scores[s] /= Math.sqrt(hs);
                        max = Math.max(max, scores[s]);
                    }
                    double sum = 0;
                    for (int s = 0; s <= t; s++) {
                        scores[s] = Math.exp(scores[s] - max);
                        sum += scores[s];
                    }
                    for (int s = 0; s <= t; s++) {
                        for (int i = 0; i < hs; i++) {
                            att[h * hs + i] += scores[s] / sum * values[l][s][kvOff + i];
                        }
                    }
                }
                add(x, b.linear(3).apply(att));
                xb = rmsnorm(x, ffnNorm[l]);
                double[] gate = b.linear(4).apply(xb);
                double[] up = b.linear(5).apply(xb);
                for (int i = 0; i < gate.length; i++) {
                    gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                }
                add(x, b.linear(6).apply(gate));
            }
            double[] xn = rmsnorm(x, finalNorm);
            for (int v = 0; v < c.vocabSize(); v++) {
                double s = 0;
                for (int i = 0; i < dim; i++) {
                    s += classifier[v * dim + i] * xn[i];
                }
                logits[t * c.vocabSize() + v] = (float) s;
            }
        }
        return logits;
    }

    /** Rotates pairs (2i, 2i+1) (interleaved) or (i, i + hs/2) (rotate-half) of every head by pos · θ^(−2i/hs). */
    private void rope(double[] v, int pos) {
        int hs = c.headSize();
        for (int head = 0; head < v.length / hs; head++) {
            for (int i = 0; i < hs / 2; i++) {
                double angle = pos * Math.pow(c.ropeTheta(), -2.0 * i / hs);
                int a = head * hs + (rotateHalf ? i : 2 * i);
                int b = head * hs + (rotateHalf ? i + hs / 2 : 2 * i + 1);
                double v0 = v[a];
                double v1 = v[b];
                v[a] = v0 * Math.cos(angle) - v1 * Math.sin(angle);
                v[b] = v0 * Math.sin(angle) + v1 * Math.cos(angle);
            }
        }
    }

    private double[] rmsnorm(double[] x, float[] weight) {
        double ss = 0;
        for (double value : x) {
            ss += value * value;
        }
        double scale = 1 / Math.sqrt(ss / x.length + c.normEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = weight[i] * x[i] * scale;
        }
        return out;
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }
}
