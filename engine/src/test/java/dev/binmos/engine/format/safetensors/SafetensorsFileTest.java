package dev.binmos.engine.format.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.format.ModelFormatException;
import dev.binmos.engine.tensor.BF16Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    /** A file laid out by hand: header length, the header JSON text, then dataBytes bytes of data. */
    private Path file(String name, long headerLength, String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(json);
        for (int i = 0; i < dataBytes / 4; i++) {
            b.putFloat(i);
        }
        return Files.write(dir.resolve(name), b.array());
    }

    private Path file(String name, String header, int dataBytes) throws IOException {
        return file(name, header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
    }

    @Test
    void readsHandLaidFile() throws IOException {
        Path path = file("hand.safetensors", "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}  ", 24);
        SafetensorsFile f = SafetensorsFile.open(path);
        assertEquals(Map.of("format", "pt"), f.metadata());
        assertEquals(List.of("b", "a"), List.copyOf(f.tensors().keySet()));
        assertArrayEquals(new long[] {2, 2}, f.tensors().get("a").shape());
        assertArrayEquals(new float[] {0, 1, 2, 3}, f.tensor(f.tensors().get("a")).toFloatArray());
        assertArrayEquals(new float[] {4, 5}, f.tensor(f.tensors().get("b")).toFloatArray());
    }

    @Test
    void writerRoundTripsFloatDtypes() throws IOException {
        float[] values = {1.5f, -2.25f, 3.0e-3f, 65504f, -0f, 1e-7f};
        SafetensorsWriter writer = new SafetensorsWriter().putMetadata("format", "pt");
        for (SafetensorsDtype dtype : List.of(SafetensorsDtype.F32, SafetensorsDtype.F16, SafetensorsDtype.BF16)) {
            writer.add("t." + dtype, dtype, new long[] {3, 2}, values);
        }
        Path path = dir.resolve("all.safetensors");
        writer.write(path);
        assertEquals(0, (Files.size(path) - 6 * (4 + 2 + 2)) % 8, "header padded to 8 bytes");
        SafetensorsFile f = SafetensorsFile.open(path);
        assertEquals(Map.of("format", "pt"), f.metadata());
        for (SafetensorsDtype dtype : List.of(SafetensorsDtype.F32, SafetensorsDtype.F16, SafetensorsDtype.BF16)) {
            SafetensorsTensor t = f.tensors().get("t." + dtype);
            assertEquals(dtype, t.dtype());
            assertArrayEquals(new long[] {3, 2}, t.shape());
            float[] read = f.tensor(t).toFloatArray();
            for (int i = 0; i < values.length; i++) {
                float expected = switch (dtype) {
                    case F16 -> Float.float16ToFloat(Float.floatToFloat16(values[i]));
                    case BF16 -> Float.intBitsToFloat(BF16Tensor.fromFloat(values[i]) << 16);
                    default -> values[i];
                };
                assertEquals(expected, read[i], dtype + " " + i);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> writer.add("x", SafetensorsDtype.I8, new long[] {1}, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> writer.add("t.F32", SafetensorsDtype.F32, new long[] {1}, new float[1]));
    }

    @Test
    void everyTruncationIsAFormatError() throws IOException {
        Path whole = file("whole.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16);
        byte[] bytes = Files.readAllBytes(whole);
        for (int cut = 0; cut < bytes.length; cut++) {
            Path path = Files.write(dir.resolve("cut.safetensors"), Arrays.copyOf(bytes, cut));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(path), "cut at " + cut);
            assertTrue(e.getMessage().startsWith(path + ": "), e.getMessage());
        }
    }

    @Test
    void corruptHeadersGiveFormatErrorsOnly() throws IOException {
        String header = "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[8,16]}}";
        byte[] original = Files.readAllBytes(file("original", header, 16));
        Random random = new Random(5);
        Path path = dir.resolve("fuzz.safetensors");
        for (int trial = 0; trial < 600; trial++) {
            byte[] bytes = original.clone();
            for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
                bytes[random.nextInt(8 + header.length())] = (byte) "{}[]\",:0123456789-eE.FBIU \u0000".charAt(random.nextInt(27));
            }
            Files.write(path, bytes);
            try {
                SafetensorsFile f = SafetensorsFile.open(path);
                f.tensors().values().stream().filter(t -> t.dtype().ggmlType != null).forEach(t -> f.tensor(t).toFloatArray());
            } catch (ModelFormatException expected) {
                assertTrue(expected.getMessage().startsWith(path + ": "));
            }
        }
    }

    @Test
    void badHeaderLength() throws IOException {
        assertError(Files.write(dir.resolve("tiny"), new byte[5]), "header length", "too short");
        assertError(file("huge", 1L << 62, "{}", 0), "header length", "4611686018427387904 bytes does not fit");
        assertError(file("negative", -1, "{}", 0), "header length", "18446744073709551615 bytes does not fit");
        assertError(file("beyond", 100, "{}", 0), "header length", "100 bytes does not fit");
    }

    @Test
    void badJson() throws IOException {
        assertError(file("json", "{\"a\": [1, 2}", 0), "header JSON", "expected ',' or ']' in array at position 11");
        assertError(file("array", "[1]", 0), "header JSON", "expected an object");
        byte[] invalidUtf8 = {8, 0, 0, 0, 0, 0, 0, 0, '{', '"', (byte) 0xC3, '"', ':', '1', '}', ' '};
        assertError(Files.write(dir.resolve("utf8"), invalidUtf8), "header", "not valid UTF-8");
    }

    @Test
    void badEntries() throws IOException {
        assertError(file("dtype", "{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "tensor 'a' dtype", "unknown dtype 'F33'");
        assertError(file("range", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4),
                "tensor 'a' data_offsets", "[0, 8] is not a range inside the 4 data bytes");
        assertError(file("reversed", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4),
                "tensor 'a' data_offsets", "is not a range");
        assertError(file("size", "{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8),
                "tensor 'a' shape", "[3] of F16 needs 6 bytes, data_offsets [0, 8] hold 8");
        assertError(file("overflow", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8),
                "tensor 'a' shape", "is too large");
        assertError(file("negshape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8),
                "tensor 'a' shape", "non-negative integers, found -2");
        assertError(file("arity", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8),
                "tensor 'a' data_offsets", "must be an array of 2 integers, found [0]");
        assertError(file("overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
                "tensor 'b' data_offsets", "[4, 12] overlaps tensor 'a' [0, 8]");
        assertError(file("notobject", "{\"a\":3}", 0), "tensor 'a'", "must be an object");
        assertError(file("meta", "{\"__metadata__\":{\"n\":1}}", 0), "__metadata__.n", "must be a string");
    }

    @Test
    void nonFloatTensorsAreDescribedButNotReadAsFloats() throws IOException {
        SafetensorsFile f = SafetensorsFile.open(file("ints", "{\"i\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4));
        assertEquals(SafetensorsDtype.I8, f.tensors().get("i").dtype());
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> f.tensor(f.tensors().get("i")));
        assertTrue(e.getMessage().contains("tensor 'i' dtype: I8 is not supported"), e.getMessage());
    }

    private static void assertError(Path file, String field, String problem) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(file));
        assertTrue(e.getMessage().startsWith(file + ": " + field + ": "), "field '" + field + "' in: " + e.getMessage());
        assertTrue(e.getMessage().contains(problem), "'" + problem + "' in: " + e.getMessage());
    }
}
