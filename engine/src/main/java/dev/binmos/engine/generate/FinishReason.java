package dev.binmos.engine.generate;

/** Why a generation ended, named as in the OpenAI API. */
public enum FinishReason {
    /** An end-of-sequence token or a stop string. */
    STOP,
    /** max tokens or the context length reached. */
    LENGTH
}
