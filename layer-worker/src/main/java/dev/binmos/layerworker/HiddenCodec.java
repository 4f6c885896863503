package dev.binmos.layerworker;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.binmos.proto.v1.HiddenEncoding;
import io.grpc.Status;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;

/** Packs hidden states and logits as little-endian F32 (exact) or F16 (half the bytes). */
final class HiddenCodec {
    private HiddenCodec() {
    }

    static int bytesPerValue(HiddenEncoding encoding) {
        return encoding == HiddenEncoding.HIDDEN_ENCODING_F16 ? 2 : 4;
    }

    /** The first n values of src. */
    static ByteString encode(float[] src, int n, HiddenEncoding encoding) {
        ByteBuffer bytes = ByteBuffer.allocate(n * bytesPerValue(encoding)).order(ByteOrder.LITTLE_ENDIAN);
        if (encoding == HiddenEncoding.HIDDEN_ENCODING_F16) {
            ShortBuffer halves = bytes.asShortBuffer();
            for (int i = 0; i < n; i++) {
                halves.put(i, Float.floatToFloat16(src[i]));
            }
        } else {
            bytes.asFloatBuffer().put(src, 0, n);
        }
        // the array is never touched again, so protobuf may keep it without a copy
        return UnsafeByteOperations.unsafeWrap(bytes.array());
    }

    /** Exactly n values, or INVALID_ARGUMENT. */
    static float[] decode(ByteString data, int n, HiddenEncoding encoding) {
        int expected = n * bytesPerValue(encoding);
        if (data.size() != expected) {
            throw Status.INVALID_ARGUMENT.withDescription("hidden has " + data.size() + " bytes; " + n + " values in "
                    + encoding + " take " + expected).asRuntimeException();
        }
        ByteBuffer bytes = data.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[n];
        if (encoding == HiddenEncoding.HIDDEN_ENCODING_F16) {
            ShortBuffer halves = bytes.asShortBuffer();
            for (int i = 0; i < n; i++) {
                out[i] = Float.float16ToFloat(halves.get(i));
            }
        } else {
            bytes.asFloatBuffer().get(out);
        }
        return out;
    }
}
