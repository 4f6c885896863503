package dev.binmos.engine.tokenizer;

/** The two UTF-8 facts the tokenizer needs, without going through a CharsetEncoder per code point. */
final class Utf8 {
    private Utf8() {
    }

    /** Writes the UTF-8 form of {@code cp} (a lone surrogate becomes U+FFFD, as String.getBytes does) and returns its length. */
    static int encode(int cp, byte[] out) {
        if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) {
            cp = 0xFFFD;
        }
        if (cp < 0x80) {
            out[0] = (byte) cp;
            return 1;
        }
        if (cp < 0x800) {
            out[0] = (byte) (0xC0 | cp >> 6);
            out[1] = (byte) (0x80 | cp & 0x3F);
            return 2;
        }
        if (cp < 0x10000) {
            out[0] = (byte) (0xE0 | cp >> 12);
            out[1] = (byte) (0x80 | cp >> 6 & 0x3F);
            out[2] = (byte) (0x80 | cp & 0x3F);
            return 3;
        }
        out[0] = (byte) (0xF0 | cp >> 18);
        out[1] = (byte) (0x80 | cp >> 12 & 0x3F);
        out[2] = (byte) (0x80 | cp >> 6 & 0x3F);
        out[3] = (byte) (0x80 | cp & 0x3F);
        return 4;
    }

    /**
     * How many bytes at the end of {@code bytes[0, length)} are the start of a multi-byte sequence still waiting for
     * continuation bytes; 0 if the text ends on a character boundary (or on bytes that can never become valid).
     */
    static int incompleteTail(byte[] bytes, int length) {
        for (int i = length - 1; i >= Math.max(0, length - 3); i--) {
            int b = bytes[i] & 0xFF;
            if ((b & 0xC0) == 0x80) {
                continue;
            }
            int needed = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 1;
            return length - i < needed ? length - i : 0;
        }
        return 0;
    }
}
