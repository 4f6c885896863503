package dev.binmos.engine.sampling;

import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Picks the next token from logits: repetition penalty, then argmax if greedy, else temperature, top-k, softmax,
 * top-p, min-p and a draw from what is left. One sampler per generation: it holds the seeded random sequence and
 * scratch buffers, so it is not thread-safe.
 */
public final class Sampler {
    private final SamplingParams params;
    private final int vocabSize;
    private final RandomGenerator random;
    private final float[] work;
    private final boolean[] penalised;
    private final Candidates candidates;

    /** @param vocabSize tokens to sample from: the first {@code vocabSize} logits */
    public Sampler(SamplingParams params, int vocabSize) {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocab size must be positive, got " + vocabSize);
        }
        this.params = params;
        this.vocabSize = vocabSize;
        this.random = RandomGeneratorFactory.of("L64X128MixRandom").create(params.seed());
        this.work = new float[vocabSize];
        this.penalised = new boolean[vocabSize];
        this.candidates = new Candidates(vocabSize);
    }

    /**
     * @param logits        at least {@code vocabSize} values; not modified
     * @param history       the tokens so far (prompt and generated), for the repetition penalty
     * @param historyLength how many leading entries of {@code history} count
     */
    public int sample(float[] logits, int[] history, int historyLength) {
        if (logits.length < vocabSize) {
            throw new IllegalArgumentException("got " + logits.length + " logits for a vocabulary of " + vocabSize);
        }
        if (historyLength < 0 || historyLength > (history == null ? 0 : history.length)) {
            throw new IllegalArgumentException("history length " + historyLength + " does not fit the history array");
        }
        for (int i = 0; i < vocabSize; i++) {
            work[i] = Float.isNaN(logits[i]) ? Float.NEGATIVE_INFINITY : logits[i];
        }
        penalise(history, historyLength);
        if (params.isGreedy()) {
            return argmax();
        }
        int k = params.topK();
        if (k > 0 && k < vocabSize) {
            candidates.topK(work, vocabSize, k);
        } else {
            candidates.all(work, vocabSize);
        }
        if (!candidates.softmax(params.temperature())) {
            return argmax();
        }
        candidates.topP(params.topP());
        candidates.minP(params.minP());
        return candidates.draw(random.nextDouble());
    }

    /** CTRL / llama.cpp convention: a repeated token's positive logit is divided, a negative one multiplied, once. */
    private void penalise(int[] history, int length) {
        float penalty = params.repetitionPenalty();
        if (penalty == 1) {
            return;
        }
        for (int i = 0; i < length; i++) {
            int token = history[i];
            if (token < 0 || token >= vocabSize) {
                throw new IllegalArgumentException("history[" + i + "] = " + token + " is outside the vocabulary of " + vocabSize);
            }
            if (!penalised[token]) {
                penalised[token] = true;
                work[token] = work[token] > 0 ? work[token] / penalty : work[token] * penalty;
            }
        }
        for (int i = 0; i < length; i++) {
            penalised[history[i]] = false;
        }
    }

    /** Lowest index on ties, so greedy decoding is reproducible across implementations. */
    private int argmax() {
        int best = 0;
        for (int i = 1; i < vocabSize; i++) {
            if (work[i] > work[best]) {
                best = i;
            }
        }
        return best;
    }
}
