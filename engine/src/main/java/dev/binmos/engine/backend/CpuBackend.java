package dev.binmos.engine.backend;

import dev.binmos.engine.kv.KvCache;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.linear.Linear;
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
    /** For products within a span that has a thread of its own. */
    private final Parallel serial = new Parallel(1);
    /** The largest {@link Linear#tokensPerPass} of the model's products. */
    private final int tokensPerPass;
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
        int pass = 1;
        for (LayerWeights w : model.weights().layers()) {
            for (Linear linear : w.linears()) {
                pass = Math.max(pass, linear.tokensPerPass());
            }
        }
        this.tokensPerPass = pass;
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
        // the batch's rows of q, k, v and the attention output, for the cache and attention
        float[] q = new float[tokens * dim];
        float[] k = new float[tokens * kvDim];
        float[] v = new float[tokens * kvDim];
        float[] att = new float[tokens * dim];
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
        Span[] spans = spans(tokens);
        // spans run in parallel, each product within one serially; one span of all rows splits each product
        Parallel inner = spans.length > 1 ? serial : parallel;
        for (int l = fromLayer; l <= toLayer; l++) {
            int layer = l;
            // the MLP of the layer before and the projections of this one, with no hand-off between them
            parallel.forRange(spans.length, 1, (from, to) -> {
                for (int i = from; i < to; i++) {
                    if (layer > fromLayer) {
                        mlp(model.weights().layers()[layer - 1], spans[i], x, att, inner);
                    }
                    if (layer < toLayer) {
                        projections(model.weights().layers()[layer], spans[i], x, q, k, v, cos, sin, inner);
                    }
                }
            });
            if (l == toLayer) {
                break;
            }
            int row = 0;
            for (Chunk chunk : batch) {
                for (int t = 0; t < chunk.tokens(); t++, row++) {
                    chunk.session().cache().store(l, chunk.startPos() + t, k, row * kvDim, v, row * kvDim);
                }
            }
            attention(batch, l, q, att, tokens);
        }
        for (Chunk chunk : batch) {
            chunk.session().cache().end();
            chunk.session().advance(chunk.startPos(), chunk.tokens());
        }
    }

    /**
     * Rows [from, from + tokens) of a batch and the buffers a thread computes them in. Where every thread
     * can take whole passes of the products over their weights (a multiple of
     * {@link Linear#tokensPerPass} rows each), the batch is cut into one span per thread, and each thread
     * runs everything but the cache and attention on its own rows: one hand-off a layer instead of one a
     * product, each of which waits for the slower thread (on 2 noisy vCPUs, a 7B layer's seven products
     * ran 1.08 to 1.15× faster, a whole 7B prompt chunk 1.045×).
     * Otherwise one span of all rows, whose products split their weight rows across threads.
     */
    private final class Span {
        final int from;
        final int tokens;
        final float[] xb;
        final float[] q;
        final float[] k;
        final float[] v;
        final float[] att;
        final float[] hb;
        final float[] hb2;

        Span(int from, int tokens) {
            this.from = from;
            this.tokens = tokens;
            xb = new float[tokens * c.dim()];
            q = new float[tokens * c.dim()];
            k = new float[tokens * c.kvDim()];
            v = new float[tokens * c.kvDim()];
            att = new float[tokens * c.dim()];
            hb = new float[tokens * c.hiddenDim()];
            hb2 = new float[tokens * c.hiddenDim()];
        }
    }

    private Span[] spans(int tokens) {
        int threads = parallel.threads();
        int count = threads > 1 && tokens % ((long) threads * tokensPerPass) == 0 ? threads : 1;
        Span[] spans = new Span[count];
        for (int i = 0; i < count; i++) {
            spans[i] = new Span(tokens / count * i, tokens / count);
        }
        return spans;
    }

    /** q, k and v of a span's rows, turned by RoPE, into the batch's rows of q, k and v. */
    private void projections(LayerWeights w, Span s, float[] x, float[] q, float[] k, float[] v, float[] cos, float[] sin,
                             Parallel inner) {
        int dim = c.dim();
        int kvDim = c.kvDim();
        int pairs = c.headSize() / 2;
        rmsnorm(s.xb, x, s.from * dim, w.attnNorm(), s.tokens);
        w.q().apply(s.xb, s.q, s.tokens, inner);
        w.k().apply(s.xb, s.k, s.tokens, inner);
        w.v().apply(s.xb, s.v, s.tokens, inner);
        for (int t = 0; t < s.tokens; t++) {
            rope(s.q, t * dim, dim, cos, sin, (s.from + t) * pairs);
            rope(s.k, t * kvDim, kvDim, cos, sin, (s.from + t) * pairs);
        }
        System.arraycopy(s.q, 0, q, s.from * dim, s.tokens * dim);
        System.arraycopy(s.k, 0, k, s.from * kvDim, s.tokens * kvDim);
        System.arraycopy(s.v, 0, v, s.from * kvDim, s.tokens * kvDim);
    }

    /** The output projection and the MLP of a span's rows, each added to x. */
    private void mlp(LayerWeights w, Span s, float[] x, float[] att, Parallel inner) {
        int dim = c.dim();
        System.arraycopy(att, s.from * dim, s.att, 0, s.tokens * dim);
        w.o().apply(s.att, s.xb, s.tokens, inner);
        add(x, s.from * dim, s.xb, s.tokens * dim);
        rmsnorm(s.xb, x, s.from * dim, w.ffnNorm(), s.tokens);
        w.gate().apply(s.xb, s.hb, s.tokens, inner);
        w.up().apply(s.xb, s.hb2, s.tokens, inner);
        swiglu(s.hb, s.hb2, s.tokens, c.hiddenDim(), inner);
        w.down().apply(s.hb, s.xb, s.tokens, inner);
        add(x, s.from * dim, s.xb, s.tokens * dim);
    }

    @Override
    public float[] logits(float[] x, int tokens, int count) {
        int dim = c.dim();
        float[] last = new float[count * dim];
        float[] normed = new float[count * dim];
        System.arraycopy(x, (tokens - count) * dim, last, 0, count * dim);
        rmsnorm(normed, last, 0, model.weights().finalNorm(), count);
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

    /** out rows = RMSNorm of the tokens rows of x from xOffset. */
    private void rmsnorm(float[] out, float[] x, int xOffset, float[] weight, int tokens) {
        int dim = weight.length;
        for (int t = 0; t < tokens; t++) {
            int base = t * dim;
            float ss = 0f;
            for (int i = 0; i < dim; i++) {
                ss += x[xOffset + base + i] * x[xOffset + base + i];
            }
            ss = 1.0f / (float) Math.sqrt(ss / dim + c.normEps());
            for (int i = 0; i < dim; i++) {
                out[base + i] = weight[i] * (ss * x[xOffset + base + i]);
            }
        }
    }

    /** hb = silu(hb) ⊙ hb2, token rows split across threads (an exp per number: a prompt chunk's worth is not small). */
    private static void swiglu(float[] hb, float[] hb2, int tokens, int hidden, Parallel parallel) {
        parallel.forRange(tokens, 1, (from, to) -> {
            for (int i = from * hidden; i < to * hidden; i++) {
                float g = hb[i];
                hb[i] = g / (1.0f + (float) Math.exp(-g)) * hb2[i];
            }
        });
    }

    /** x[offset + i] += y[i] for i below n. */
    private static void add(float[] x, int offset, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            x[offset + i] += y[i];
        }
    }

    @Override
    public void close() {
        parallel.close();
        serial.close();
    }
}
