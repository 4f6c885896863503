package dev.binmos.engine.backend;

import dev.binmos.engine.kv.KvCache;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.LayerWeights;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Parallel;
import java.util.List;

/**
 * The Llama forward pass on the CPU, for a batch of consecutive tokens of one session: RMSNorm, RoPE,
 * grouped-query attention through the session's KV cache, SwiGLU MLP. Matrix products go through
 * {@link dev.binmos.engine.linear.Linear}, so every weight format runs the same code, and attention
 * through {@link KvCache}, so every cache policy does too.
 */
public final class CpuBackend implements Backend {
    /** Tokens per forward of a long input. */
    public static final int CHUNK = 64;
    private final Llama model;
    private final Configuration c;
    private final Parallel parallel;
    private final KvPolicy policy;
    /** RoPE frequency of each pair within a head. */
    private final float[] ropeFreq;

    /** A backend whose sessions keep a dense KV cache. */
    public CpuBackend(Llama model, Parallel parallel) {
        this(model, parallel, KvPolicy.dense());
    }

    /** A backend whose sessions keep the KV cache of {@code policy}. */
    public CpuBackend(Llama model, Parallel parallel, KvPolicy policy) {
        this.model = model;
        this.c = model.config();
        this.parallel = parallel;
        this.policy = policy;
        int hs = c.headSize();
        this.ropeFreq = new float[hs / 2];
        for (int i = 0; i < hs; i += 2) {
            ropeFreq[i / 2] = 1.0f / (float) Math.pow(c.ropeTheta(), i / (float) hs);
        }
    }

    public Llama model() {
        return model;
    }

    public KvPolicy policy() {
        return policy;
    }

    @Override
    public Session openSession(String id, int capacity) {
        return new Session(id, policy.open(c, capacity));
    }

    @Override
    public void embed(int[] tokens, float[] hidden) {
        for (int t = 0; t < tokens.length; t++) {
            if (tokens[t] < 0 || tokens[t] >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[t] + " outside the vocabulary [0, " + c.vocabSize() + ")");
            }
            model.weights().tokenEmbeddings().copyTo((long) tokens[t] * c.dim(), hidden, t * c.dim(), c.dim());
        }
        model.weights().releaseEmbeddingPages();
    }

    @Override
    public float[] forward(Session session, int[] tokens, int startPos) {
        return run(session, tokens, startPos, 1);
    }

    @Override
    public float[] forwardAll(Session session, int[] tokens, int startPos) {
        return run(session, tokens, startPos, tokens.length);
    }

    /**
     * Runs tokens in chunks of at most {@link #CHUNK}, so that a long prompt's activations stay small; a
     * token's result does not depend on its chunk (kernels and caches are batch-invariant), so this equals
     * one forward of every token.
     */
    private float[] run(Session session, int[] tokens, int startPos, int logitRows) {
        float[] logits = new float[logitRows * c.vocabSize()];
        for (int first = 0; first < tokens.length; first += CHUNK) {
            int n = Math.min(CHUNK, tokens.length - first);
            float[] x = new float[n * c.dim()];
            embed(java.util.Arrays.copyOfRange(tokens, first, first + n), x);
            forwardLayers(List.of(new Chunk(session, startPos + first, n)), x, 0, c.layers());
            // the logits of this chunk's tokens among the last logitRows
            int wanted = Math.min(n, first + n - (tokens.length - logitRows));
            if (wanted > 0) {
                float[] part = logits(x, n, wanted);
                System.arraycopy(part, 0, logits, (first + n - wanted - (tokens.length - logitRows)) * c.vocabSize(), part.length);
            }
        }
        return logits;
    }

    @Override
    public void forwardLayers(List<Chunk> batch, float[] x, int fromLayer, int toLayer) {
        if (fromLayer < 0 || toLayer > c.layers() || fromLayer >= toLayer) {
            throw new IllegalArgumentException("layer range [" + fromLayer + ", " + toLayer + ") outside [0, " + c.layers() + ")");
        }
        int tokens = 0;
        java.util.Set<Session> sessions = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Chunk chunk : batch) {
            if (!sessions.add(chunk.session())) {
                throw new IllegalArgumentException("session " + chunk.session().id() + " appears twice in one batch");
            }
            chunk.session().checkRange(chunk.startPos(), chunk.tokens());
            chunk.session().cache().checkBegin(chunk.startPos());
            tokens += chunk.tokens();
        }
        if (x.length < tokens * c.dim()) {
            throw new IllegalArgumentException("hidden holds " + x.length / c.dim() + " rows for a batch of " + tokens + " tokens");
        }
        for (Chunk chunk : batch) {
            chunk.session().cache().begin(chunk.startPos(), chunk.tokens());
        }
        int dim = c.dim();
        int kvDim = c.kvDim();
        int hidden = c.hiddenDim();
        float[] xb = new float[tokens * dim];
        float[] q = new float[tokens * dim];
        float[] k = new float[tokens * kvDim];
        float[] v = new float[tokens * kvDim];
        float[] att = new float[tokens * dim];
        float[] hb = new float[tokens * hidden];
        float[] hb2 = new float[tokens * hidden];
        // every layer, head, query and key of a position turns by the same headSize / 2 angles
        int pairs = c.headSize() / 2;
        float[] cos = new float[tokens * pairs];
        float[] sin = new float[tokens * pairs];
        int r = 0;
        for (Chunk chunk : batch) {
            for (int t = 0; t < chunk.tokens(); t++, r++) {
                for (int i = 0; i < pairs; i++) {
                    float angle = (chunk.startPos() + t) * ropeFreq[i];
                    cos[r * pairs + i] = (float) Math.cos(angle);
                    sin[r * pairs + i] = (float) Math.sin(angle);
                }
            }
        }
        for (int l = fromLayer; l < toLayer; l++) {
            LayerWeights w = model.weights().layers()[l];
            rmsnorm(xb, x, w.attnNorm(), tokens);
            w.q().apply(xb, q, tokens, parallel);
            w.k().apply(xb, k, tokens, parallel);
            w.v().apply(xb, v, tokens, parallel);
            int row = 0;
            for (Chunk chunk : batch) {
                for (int t = 0; t < chunk.tokens(); t++, row++) {
                    int pos = chunk.startPos() + t;
                    rope(q, row * dim, dim, cos, sin, row * pairs);
                    rope(k, row * kvDim, kvDim, cos, sin, row * pairs);
                    chunk.session().cache().store(l, pos, k, row * kvDim, v, row * kvDim);
                }
            }
            attention(batch, l, q, att, tokens);
            w.o().apply(att, xb, tokens, parallel);
            add(x, xb);
            rmsnorm(xb, x, w.ffnNorm(), tokens);
            w.gate().apply(xb, hb, tokens, parallel);
            w.up().apply(xb, hb2, tokens, parallel);
            swiglu(hb, hb2, tokens, hidden);
            w.down().apply(hb, xb, tokens, parallel);
            add(x, xb);
        }
        for (Chunk chunk : batch) {
            chunk.session().cache().end();
            chunk.session().advance(chunk.startPos(), chunk.tokens());
        }
    }

    @Override
    public float[] logits(float[] x, int tokens, int count) {
        int dim = c.dim();
        float[] last = new float[count * dim];
        float[] normed = new float[count * dim];
        System.arraycopy(x, (tokens - count) * dim, last, 0, count * dim);
        rmsnorm(normed, last, model.weights().finalNorm(), count);
        float[] logits = new float[count * c.vocabSize()];
        model.weights().classifier().apply(normed, logits, count, parallel);
        return logits;
    }

    /**
     * Each (chunk, kv head) is one unit of work: its query heads attend position by position, as
     * {@link KvCache} promises its implementations (one call, so that a cache can read each entry once for
     * the chunk); units are split across threads.
     */
    private void attention(List<Chunk> batch, int layer, float[] q, float[] out, int tokens) {
        int kvHeads = c.kvHeads();
        int group = c.groupSize();
        int hs = c.headSize();
        Chunk[] chunks = batch.toArray(Chunk[]::new);
        int[] firstRow = new int[chunks.length];
        int longest = 0;
        for (int i = 0, row = 0; i < chunks.length; row += chunks[i].tokens(), i++) {
            firstRow[i] = row;
            longest = Math.max(longest, chunks[i].startPos() + chunks[i].tokens());
        }
        int units = chunks.length * kvHeads;
        long workPerUnit = (long) tokens * c.heads() * longest / units;
        int scratch = longest;
        parallel.forRange(units, (int) Math.max(1, 4096 / Math.max(1, workPerUnit)), (from, to) -> {
            float[] scores = new float[scratch];
            for (int u = from; u < to; u++) {
                Chunk chunk = chunks[u / kvHeads];
                KvCache cache = chunk.session().cache();
                int g = u % kvHeads;
                cache.attend(layer, g * group, group, hs, chunk.startPos(), chunk.tokens(), q,
                        firstRow[u / kvHeads] * c.dim() + g * group * hs, c.dim(), out, scores);
            }
        });
    }

    /** Rotates consecutive pairs within each head (interleaved layout): pair j by the angle whose cosine and sine are cos[angles + j], sin[angles + j]. */
    private void rope(float[] vec, int offset, int n, float[] cos, float[] sin, int angles) {
        int hs = c.headSize();
        for (int i = 0; i < n; i += 2) {
            int a = angles + (i % hs) / 2;
            float v0 = vec[offset + i];
            float v1 = vec[offset + i + 1];
            vec[offset + i] = v0 * cos[a] - v1 * sin[a];
            vec[offset + i + 1] = v0 * sin[a] + v1 * cos[a];
        }
    }

    private void rmsnorm(float[] out, float[] x, float[] weight, int tokens) {
        int dim = weight.length;
        for (int t = 0; t < tokens; t++) {
            int base = t * dim;
            float ss = 0f;
            for (int i = 0; i < dim; i++) {
                ss += x[base + i] * x[base + i];
            }
            ss = 1.0f / (float) Math.sqrt(ss / dim + c.normEps());
            for (int i = 0; i < dim; i++) {
                out[base + i] = weight[i] * (ss * x[base + i]);
            }
        }
    }

    /** hb = silu(hb) ⊙ hb2, token rows split across threads (an exp per number: a prompt chunk's worth is not small). */
    private void swiglu(float[] hb, float[] hb2, int tokens, int hidden) {
        parallel.forRange(tokens, 1, (from, to) -> {
            for (int i = from * hidden; i < to * hidden; i++) {
                float g = hb[i];
                hb[i] = g / (1.0f + (float) Math.exp(-g)) * hb2[i];
            }
        });
    }

    private static void add(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }

    @Override
    public void close() {
        parallel.close();
    }
}
