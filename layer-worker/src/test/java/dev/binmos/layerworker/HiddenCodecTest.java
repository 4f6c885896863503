package dev.binmos.layerworker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.binmos.proto.v1.HiddenEncoding;
import io.grpc.StatusRuntimeException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HiddenCodecTest {
    private static float[] values(int n) {
        Random random = new Random(1);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian() * 3;
        }
        return v;
    }

    @Test
    void f32IsExact() {
        float[] v = values(1000);
        ByteString bytes = HiddenCodec.encode(v, v.length, HiddenEncoding.HIDDEN_ENCODING_F32);
        assertEquals(4000, bytes.size());
        assertArrayEquals(v, HiddenCodec.decode(bytes, v.length, HiddenEncoding.HIDDEN_ENCODING_F32));
        assertEquals(Float.floatToIntBits(v[0]), Integer.reverseBytes(bytes.substring(0, 4).asReadOnlyByteBuffer().getInt()),
                "little-endian");
    }

    @Test
    void f16TakesHalfTheBytesWithinHalfPrecision() {
        float[] v = values(1000);
        ByteString bytes = HiddenCodec.encode(v, v.length, HiddenEncoding.HIDDEN_ENCODING_F16);
        assertEquals(2000, bytes.size());
        float[] back = HiddenCodec.decode(bytes, v.length, HiddenEncoding.HIDDEN_ENCODING_F16);
        for (int i = 0; i < v.length; i++) {
            assertEquals(v[i], back[i], Math.abs(v[i]) * 0x1p-10f + 1e-7f);
        }
    }

    @Test
    void aWrongSizeIsInvalidArgument() {
        ByteString bytes = HiddenCodec.encode(values(10), 10, HiddenEncoding.HIDDEN_ENCODING_F32);
        assertThrows(StatusRuntimeException.class, () -> HiddenCodec.decode(bytes, 11, HiddenEncoding.HIDDEN_ENCODING_F32));
    }
}
