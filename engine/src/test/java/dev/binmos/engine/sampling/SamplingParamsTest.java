package dev.binmos.engine.sampling;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplingParamsTest {

    @Test
    void greedyIsTemperatureZeroWithEveryFilterOff() {
        SamplingParams p = SamplingParams.greedy();
        assertTrue(p.isGreedy());
        assertTrue(p.topK() == 0 && p.topP() == 1 && p.minP() == 0 && p.repetitionPenalty() == 1);
    }

    @Test
    void acceptsBoundaryValues() {
        assertDoesNotThrow(() -> new SamplingParams(0, 0, 1, 0, 1, 0));
        assertDoesNotThrow(() -> new SamplingParams(2, 40, 0.001f, 0.999f, 0.5f, -7));
    }

    @Test
    void rejectsInvalidValuesNamingTheParameter() {
        rejected("temperature", "NaN", () -> new SamplingParams(Float.NaN, 0, 1, 0, 1, 0));
        rejected("temperature", "-0.5", () -> new SamplingParams(-0.5f, 0, 1, 0, 1, 0));
        rejected("temperature", "Infinity", () -> new SamplingParams(Float.POSITIVE_INFINITY, 0, 1, 0, 1, 0));
        rejected("topK", "-1", () -> new SamplingParams(1, -1, 1, 0, 1, 0));
        rejected("topP", "0.0", () -> new SamplingParams(1, 0, 0, 0, 1, 0));
        rejected("topP", "1.5", () -> new SamplingParams(1, 0, 1.5f, 0, 1, 0));
        rejected("topP", "NaN", () -> new SamplingParams(1, 0, Float.NaN, 0, 1, 0));
        rejected("minP", "1.0", () -> new SamplingParams(1, 0, 1, 1, 1, 0));
        rejected("minP", "-0.1", () -> new SamplingParams(1, 0, 1, -0.1f, 1, 0));
        rejected("minP", "NaN", () -> new SamplingParams(1, 0, 1, Float.NaN, 1, 0));
        rejected("repetitionPenalty", "0.0", () -> new SamplingParams(1, 0, 1, 0, 0, 0));
        rejected("repetitionPenalty", "-1.0", () -> new SamplingParams(1, 0, 1, 0, -1, 0));
        rejected("repetitionPenalty", "NaN", () -> new SamplingParams(1, 0, 1, 0, Float.NaN, 0));
    }

    private static void rejected(String name, String value, Executable construct) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct);
        assertTrue(e.getMessage().startsWith(name + " ") && e.getMessage().contains(value), e.getMessage());
    }
}
