package dev.binmos.engine.binarymos;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * sign(W) of a [rows, cols] matrix, one bit per weight. This layout is the file format of BinaryMoS
 * sign tensors:
 * <ul>
 *   <li>each row is padded to a multiple of 64 columns: {@code wordsPerRow = ceil(cols / 64)};</li>
 *   <li>the data is {@code rows · wordsPerRow} little-endian 64-bit words, row after row;</li>
 *   <li>column c of row o is bit {@code c % 64} (bit 0 = least significant) of word
 *       {@code o · wordsPerRow + c / 64};</li>
 *   <li>bit 1 means −1, bit 0 means +1, so sign(0) = +1 and padding bits written as 0 read as +1.</li>
 * </ul>
 * Byte size: {@code rows · wordsPerRow · 8}. Readers must not let padding columns contribute (kernels
 * multiply them by zero activations), so a file whose padding bits are not zero still computes the same.
 */
public final class PackedSigns {
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int rows;
    private final int cols;
    private final int wordsPerRow;
    private final MemorySegment segment;

    /** A view of packed signs at the start of segment (which may be memory-mapped). */
    public PackedSigns(int rows, int cols, MemorySegment segment) {
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("shape [" + rows + ", " + cols + "] must be positive");
        }
        if (segment.byteSize() < byteSize(rows, cols)) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes holds fewer than the "
                    + byteSize(rows, cols) + " bytes of packed signs [" + rows + ", " + cols + "]");
        }
        this.rows = rows;
        this.cols = cols;
        this.wordsPerRow = wordsPerRow(cols);
        this.segment = segment;
    }

    public static int wordsPerRow(int cols) {
        return (cols + 63) >>> 6;
    }

    public static long byteSize(int rows, int cols) {
        return (long) rows * wordsPerRow(cols) * Long.BYTES;
    }

    /** Packs a row-major [rows, cols] matrix by sign: bit 1 where w &lt; 0 (also −0.0 is +1), padding bits 0. */
    public static PackedSigns pack(float[] w, int rows, int cols) {
        if ((long) rows * cols > w.length) {
            throw new IllegalArgumentException("shape [" + rows + ", " + cols + "] needs " + (long) rows * cols + " values, got " + w.length);
        }
        int wpr = wordsPerRow(cols);
        long[] words = new long[Math.toIntExact((long) rows * wpr)];
        for (int o = 0; o < rows; o++) {
            for (int c = 0; c < cols; c++) {
                if (w[o * cols + c] < 0f) {
                    words[o * wpr + (c >>> 6)] |= 1L << c;
                }
            }
        }
        MemorySegment segment = MemorySegment.ofArray(new byte[words.length * Long.BYTES]);
        MemorySegment.copy(words, 0, segment, LE_LONG, 0, words.length);
        return new PackedSigns(rows, cols, segment);
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public int wordsPerRow() {
        return wordsPerRow;
    }

    /** The packed words (at least {@link #byteSize()} bytes), e.g. for a writer. */
    public MemorySegment segment() {
        return segment;
    }

    public long byteSize() {
        return byteSize(rows, cols);
    }

    /** Word j of row o. */
    public long word(int o, int j) {
        return segment.get(LE_LONG, ((long) o * wordsPerRow + j) * Long.BYTES);
    }

    /** +1 or −1. */
    public int sign(int o, int c) {
        if (o < 0 || o >= rows || c < 0 || c >= cols) {
            throw new IndexOutOfBoundsException("(" + o + ", " + c + ") outside [" + rows + ", " + cols + "]");
        }
        return (word(o, c >>> 6) >>> c & 1) == 0 ? 1 : -1;
    }

    /** The ±1 matrix, row-major [rows, cols]. */
    public float[] unpack() {
        float[] w = new float[Math.multiplyExact(rows, cols)];
        for (int o = 0; o < rows; o++) {
            for (int c = 0; c < cols; c++) {
                w[o * cols + c] = sign(o, c);
            }
        }
        return w;
    }
}
