package dev.binmos.engine.format;

import dev.binmos.engine.tensor.GgmlType;
import dev.binmos.engine.tensor.Tensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Buffered little-endian output to a new file, for the model writers; tensor data is streamed by rows. */
public final class TensorOutput implements AutoCloseable {
    private static final int BUFFER_BYTES = 1 << 20;

    private final FileChannel channel;
    private ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private long written;

    public TensorOutput(Path file) throws IOException {
        channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
    }

    /** Bytes written so far, including those still buffered. */
    public long position() {
        return written + buffer.position();
    }

    public void write(byte[] bytes) throws IOException {
        int done = 0;
        while (done < bytes.length) {
            if (!buffer.hasRemaining()) {
                flush();
            }
            int n = Math.min(buffer.remaining(), bytes.length - done);
            buffer.put(bytes, done, n);
            done += n;
        }
    }

    /** Zero bytes up to the next multiple of alignment. */
    public void pad(int alignment) throws IOException {
        write(new byte[(int) (-position() & (alignment - 1))]);
    }

    /** Encodes {@code rows} rows of {@code rowLength} values from source as type. */
    public void writeRows(GgmlType type, long rows, int rowLength, RowSource source) throws IOException {
        int rowBytes = Math.toIntExact(type.byteSize(rowLength));
        if (rowBytes > buffer.capacity()) {
            flush();
            buffer = ByteBuffer.allocateDirect(rowBytes).order(ByteOrder.LITTLE_ENDIAN);
        }
        float[] row = new float[rowLength];
        for (long r = 0; r < rows; r++) {
            source.fill(r, row);
            if (buffer.remaining() < rowBytes) {
                flush();
            }
            Tensors.encode(type, row, 0, rowLength, buffer);
        }
    }

    /** Writes {@code rows} rows of {@code rowBytes} bytes each from source, as they are. */
    public void writeRawRows(long rows, int rowBytes, ByteRowSource source) throws IOException {
        byte[] row = new byte[rowBytes];
        for (long r = 0; r < rows; r++) {
            source.fill(r, row);
            write(row);
        }
    }

    private void flush() throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            written += channel.write(buffer);
        }
        buffer.clear();
    }

    @Override
    public void close() throws IOException {
        try (channel) {
            flush();
        }
    }
}
