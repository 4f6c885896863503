package dev.binmos.engine.tokenizer;

/** SentencePiece token kinds, numbered as in GGUF's {@code tokenizer.ggml.token_type}. */
enum TokenType {
    NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    /** GGUF codes 1..6; anything else is rejected rather than guessed. */
    static TokenType fromGgufCode(long code) {
        if (code < 1 || code > 6) {
            throw new IllegalArgumentException("unknown token type code " + code + " (expected 1..6)");
        }
        return values()[(int) code - 1];
    }

    /** Only ordinary pieces take part in BPE; control, byte and unknown pieces are never produced by a merge. */
    boolean mergeable() {
        return this == NORMAL || this == USER_DEFINED;
    }
}
