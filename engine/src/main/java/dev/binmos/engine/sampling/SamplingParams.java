package dev.binmos.engine.sampling;

/**
 * How the next token is chosen from the logits. Each filter has a neutral value that turns it off.
 *
 * @param temperature       logits are divided by it; 0 means greedy (argmax)
 * @param topK              keep the k most likely tokens; 0 = off
 * @param topP              keep the smallest set of most likely tokens whose probability reaches p; 1 = off
 * @param minP              drop tokens less likely than minP times the most likely one; 0 = off
 * @param repetitionPenalty CTRL-style penalty for tokens already in the history; 1 = off
 * @param seed              seeds the random generator: the same seed and logits give the same tokens
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty, long seed) {

    public SamplingParams {
        require(Float.isFinite(temperature) && temperature >= 0, "temperature", temperature, "a finite number >= 0");
        require(topK >= 0, "topK", topK, ">= 0 (0 = off)");
        require(topP > 0 && topP <= 1, "topP", topP, "in (0, 1] (1 = off)");
        require(minP >= 0 && minP < 1, "minP", minP, "in [0, 1) (0 = off)");
        require(Float.isFinite(repetitionPenalty) && repetitionPenalty > 0, "repetitionPenalty", repetitionPenalty,
                "a finite number > 0 (1 = off)");
    }

    /** Always the most likely token, no penalty. */
    public static SamplingParams greedy() {
        return new SamplingParams(0, 0, 1, 0, 1, 0);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    private static void require(boolean ok, String name, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException(name + " must be " + expected + ", got " + value);
        }
    }
}
