package dev.binmos.gateway.openai;

import dev.binmos.proto.v1.FinishReason;

/** finish_reason as OpenAI (and vLLM, for "abort") name it. */
public final class FinishReasons {

    private FinishReasons() {
    }

    /** "stop", "length" or "abort"; null for an error, which is reported as an error instead. */
    public static String openAi(FinishReason reason) {
        return switch (reason) {
            case FINISH_REASON_STOP -> "stop";
            case FINISH_REASON_LENGTH -> "length";
            case FINISH_REASON_CANCELLED -> "abort";
            case FINISH_REASON_ERROR, FINISH_REASON_UNSPECIFIED, UNRECOGNIZED -> null;
        };
    }
}
