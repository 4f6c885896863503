package dev.binmos.engine.model;

import dev.binmos.engine.linear.Linear;

/** One decoder block: attention (q, k, v, o) and SwiGLU MLP (gate, up, down) with their RMSNorm weights. */
public record LayerWeights(float[] attnNorm, Linear q, Linear k, Linear v, Linear o,
                           float[] ffnNorm, Linear gate, Linear up, Linear down) {

    public Linear[] linears() {
        return new Linear[] {q, k, v, o, gate, up, down};
    }
}
