package dev.binmos.engine.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Sequences of equal length as a file: the 8 bytes {@code BMTOKENS}, int32 count, int32 length, then
 * count · length int32 token ids, all little-endian. Written to a temporary file and moved into place,
 * so a cache never holds half a file.
 */
final class TokenFile {
    private static final byte[] MAGIC = "BMTOKENS".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = MAGIC.length + 8;

    private TokenFile() {
    }

    static void write(Path file, int[][] sequences, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(HEADER + sequences.length * length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(MAGIC).putInt(sequences.length).putInt(length);
        for (int[] s : sequences) {
            if (s.length != length) {
                throw new IllegalArgumentException("a sequence of " + s.length + " tokens in a file of length " + length);
            }
            for (int token : s) {
                buffer.putInt(token);
            }
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reads a file written by {@link #write}, checking it holds {@code count} sequences of {@code length}. */
    static int[][] read(Path file, int count, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[MAGIC.length];
        if (buffer.remaining() >= HEADER) {
            buffer.get(magic);
        }
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IOException(file + " is not a token file (no " + new String(MAGIC, StandardCharsets.US_ASCII) + " header)");
        }
        int n = buffer.getInt();
        int len = buffer.getInt();
        if (n != count || len != length || buffer.remaining() != (long) n * len * 4) {
            throw new IOException(file + " holds " + n + " sequences of " + len + " tokens (" + buffer.remaining()
                    + " bytes of tokens), expected " + count + " of " + length);
        }
        int[][] sequences = new int[n][len];
        for (int[] s : sequences) {
            for (int i = 0; i < len; i++) {
                s[i] = buffer.getInt();
            }
        }
        return sequences;
    }
}
