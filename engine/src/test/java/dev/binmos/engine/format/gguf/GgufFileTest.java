package dev.binmos.engine.format.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.binmos.engine.format.ModelFormatException;
import dev.binmos.engine.tensor.FloatTensor;
import dev.binmos.engine.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {
    private static final List<GgmlType> FLOAT_TYPES = Arrays.stream(GgmlType.values()).filter(GgmlType::isFloat).toList();

    @TempDir
    Path dir;

    /**
     * A GGUF v3 file laid out byte by byte from the specification: two metadata pairs (a string and an
     * INT16 array) and one 2×4 F32 tensor. Records where each field starts so tests can corrupt it.
     */
    static final class HandLaid {
        final ByteBuffer b = ByteBuffer.allocate(192).order(ByteOrder.LITTLE_ENDIAN);
        final int tensorCountAt;
        final int kvCountAt;
        final int firstKeyLengthAt;
        final int valueTypeAt;
        final int arrayLengthAt;
        final int nDimsAt;
        final int tensorTypeAt;
        final int tensorOffsetAt;
        final int dataAt;

        HandLaid() {
            b.put("GGUF".getBytes(StandardCharsets.US_ASCII));
            b.putInt(3);
            tensorCountAt = b.position();
            b.putLong(1);
            kvCountAt = b.position();
            b.putLong(2);
            firstKeyLengthAt = b.position();
            string("general.name");
            valueTypeAt = b.position();
            b.putInt(8); // STRING
            string("tiny");
            string("tiny.numbers");
            b.putInt(9); // ARRAY
            b.putInt(3); // of INT16
            arrayLengthAt = b.position();
            b.putLong(3);
            b.putShort((short) -1).putShort((short) 2).putShort((short) 300);
            string("t");
            nDimsAt = b.position();
            b.putInt(2);
            b.putLong(4); // ne[0]: a row of 4
            b.putLong(2); // ne[1]: 2 rows
            tensorTypeAt = b.position();
            b.putInt(0); // F32
            tensorOffsetAt = b.position();
            b.putLong(0);
            dataAt = (b.position() + 31) / 32 * 32; // data section aligned to the default 32
            b.position(dataAt);
            for (int i = 0; i < 8; i++) {
                b.putFloat(i * 0.5f - 1);
            }
            assertEquals(b.capacity(), b.position(), "the tensor ends the file: every cut truncates something");
        }

        private void string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            b.putLong(bytes.length);
            b.put(bytes);
        }

        byte[] bytes() {
            return b.array().clone();
        }
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    @Test
    void readsHandLaidFile() throws IOException {
        HandLaid f = new HandLaid();
        GgufFile gguf = GgufFile.open(write("tiny.gguf", f.bytes()));
        assertEquals(3, gguf.version());
        assertEquals(Map.of("general.name", "tiny", "tiny.numbers", List.of(-1L, 2L, 300L)), gguf.metadata());
        assertEquals(32, gguf.alignment());
        assertEquals(f.dataAt, gguf.dataStart());
        assertEquals(1, gguf.tensors().size());
        GgufTensorInfo t = gguf.tensorInfo("t");
        assertArrayEquals(new long[] {4, 2}, t.dims());
        assertArrayEquals(new long[] {2, 4}, t.shape());
        assertEquals(GgmlType.F32, t.type());
        assertEquals(32, t.byteSize());
        assertArrayEquals(new float[] {-1, -0.5f, 0, 0.5f, 1, 1.5f, 2, 2.5f}, gguf.tensor("t").toFloatArray());
        assertNull(gguf.tensorInfo("u"));
        assertError(() -> gguf.tensor("u"), "tensor u", "missing");
    }

    @Test
    void everyTruncationIsAFormatError() throws IOException {
        byte[] bytes = new HandLaid().bytes();
        for (int cut = 0; cut < bytes.length; cut++) {
            Path file = write("cut" + cut + ".gguf", Arrays.copyOf(bytes, cut));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(file), "cut at " + cut);
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
            Files.delete(file);
        }
    }

    @Test
    void corruptHeadersGiveFormatErrorsOnly() throws IOException {
        HandLaid f = new HandLaid();
        byte[] original = f.bytes();
        int headerEnd = f.tensorOffsetAt + 8;
        Random random = new Random(3);
        Path file = dir.resolve("fuzz.gguf");
        for (int trial = 0; trial < 600; trial++) {
            byte[] bytes = original.clone();
            for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
                int at = 4 + random.nextInt(headerEnd - 4); // past the magic
                bytes[at] = trial % 2 == 0 ? (byte) random.nextInt() : (byte) (bytes[at] ^ (1 << random.nextInt(8)));
            }
            Files.write(file, bytes);
            try {
                GgufFile gguf = GgufFile.open(file);
                gguf.tensors().forEach(t -> gguf.tensor(t).toFloatArray());
            } catch (ModelFormatException expected) {
                assertTrue(expected.getMessage().startsWith(file + ": "));
            }
        }
    }

    @Test
    void tensorLargerThanAnyFile() throws IOException {
        HandLaid f = new HandLaid();
        assertError(write("big.gguf", f.b.putLong(f.nDimsAt + 4, 1L << 62).putLong(f.nDimsAt + 12, 1).array()), "tensor 't' dims",
                "is larger than any file");
    }

    @Test
    void wrongMagic() throws IOException {
        byte[] bytes = new HandLaid().bytes();
        bytes[0] = 'P';
        assertError(write("magic.gguf", bytes), "magic", "not a GGUF file");
    }

    @Test
    void unsupportedVersions() throws IOException {
        HandLaid f = new HandLaid();
        assertError(write("v1.gguf", f.b.putInt(4, 1).array()), "version", "GGUF version 1 is not supported");
        assertError(write("v9.gguf", f.b.putInt(4, 9).array()), "version", "GGUF version 9 is not supported");
        assertError(write("be.gguf", f.b.putInt(4, 3 << 24).array()), "version", "big-endian GGUF is not supported");
        assertEquals(2, GgufFile.open(write("v2.gguf", f.b.putInt(4, 2).array())).version(), "v2 has the v3 layout");
    }

    @Test
    void unknownTensorType() throws IOException {
        HandLaid f = new HandLaid();
        assertError(write("type.gguf", f.b.putInt(f.tensorTypeAt, 12).array()), "tensor 't' type", "unsupported tensor type 12");
    }

    @Test
    void rowNotAWholeNumberOfBlocks() throws IOException {
        HandLaid f = new HandLaid();
        assertError(write("q8.gguf", f.b.putInt(f.tensorTypeAt, GgmlType.Q8_0.id).array()), "tensor 't' ne[0]",
                "row length 4 is not a multiple of the Q8_0 block size 32");
    }

    @Test
    void tensorDataBeyondEndOfFile() throws IOException {
        HandLaid f = new HandLaid();
        assertError(write("offset.gguf", f.b.putLong(f.tensorOffsetAt, 32).array()), "tensor 't' data", "beyond the end of the file");
        assertError(write("huge.gguf", f.b.putLong(f.tensorOffsetAt, 1L << 62).array()), "tensor 't' data", "beyond the end of the file");
        f = new HandLaid();
        assertError(write("rows.gguf", f.b.putLong(f.nDimsAt + 12, 3).array()), "tensor 't' data", "beyond the end of the file");
    }

    @Test
    void misalignedTensorOffset() throws IOException {
        HandLaid f = new HandLaid();
        assertError(write("align.gguf", f.b.putLong(f.tensorOffsetAt, 4).array()), "tensor 't' offset", "not a multiple of the alignment 32");
    }

    @Test
    void tooManyDimensions() throws IOException {
        HandLaid f = new HandLaid();
        assertError(write("dims.gguf", f.b.putInt(f.nDimsAt, 1 << 30).array()), "tensor 't' n_dims", "must be 1 to 4");
    }

    @Test
    void absurdLengthsAndCounts() throws IOException {
        HandLaid f = new HandLaid();
        assertError(write("string.gguf", f.b.putLong(f.firstKeyLengthAt, 1L << 62).array()), "metadata key #0 length", "cannot fit");
        f = new HandLaid();
        assertError(write("negative.gguf", f.b.putLong(f.firstKeyLengthAt, -1).array()), "metadata key #0 length", "18446744073709551615 bytes cannot fit");
        f = new HandLaid();
        assertError(write("array.gguf", f.b.putLong(f.arrayLengthAt, 1L << 62).array()), "metadata 'tiny.numbers' array length", "cannot fit");
        f = new HandLaid();
        assertError(write("tensors.gguf", f.b.putLong(f.tensorCountAt, 1L << 62).array()), "tensor_count", "tensors cannot fit");
        f = new HandLaid();
        assertError(write("kvs.gguf", f.b.putLong(f.kvCountAt, 1L << 40).array()), "metadata_kv_count", "cannot fit");
    }

    @Test
    void unknownValueType() throws IOException {
        HandLaid f = new HandLaid();
        assertError(write("vtype.gguf", f.b.putInt(f.valueTypeAt, 13).array()), "metadata 'general.name' type", "unknown metadata value type 13");
    }

    @Test
    void deeplyNestedArraysFailWithoutOverflowingTheStack() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(100_000).order(ByteOrder.LITTLE_ENDIAN);
        b.put("GGUF".getBytes(StandardCharsets.US_ASCII)).putInt(3).putLong(0).putLong(1);
        b.putLong(1).put((byte) 'k').putInt(GgufValueType.ARRAY.id);
        while (b.remaining() >= 12) {
            b.putInt(GgufValueType.ARRAY.id).putLong(1);
        }
        assertError(write("deep.gguf", b.array()), "metadata 'k' element", "arrays nested deeper than 64");
    }

    @Test
    void writerRoundTripsEveryValueAndTensorType() throws IOException {
        float[] values = new float[2 * 64];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) Math.sin(i);
        }
        GgufWriter writer = new GgufWriter()
                .putUInt32(GgufFile.ALIGNMENT_KEY, 64)
                .putString("s", "ünïcode")
                .put("u8", GgufValueType.UINT8, 255)
                .put("i8", GgufValueType.INT8, -128)
                .put("u16", GgufValueType.UINT16, 65535)
                .put("i16", GgufValueType.INT16, -32768)
                .putUInt32("u32", 4_000_000_000L)
                .put("i32", GgufValueType.INT32, Integer.MIN_VALUE)
                .put("u64", GgufValueType.UINT64, -1L)
                .put("i64", GgufValueType.INT64, Long.MIN_VALUE)
                .putFloat32("f32", 0.1f)
                .put("f64", GgufValueType.FLOAT64, 0.1)
                .put("bool", GgufValueType.BOOL, true)
                .putArray("strings", GgufValueType.STRING, List.of("a", "", "c"))
                .putArray("nested", GgufValueType.ARRAY, List.of(
                        new GgufWriter.Array(GgufValueType.FLOAT32, List.of(1f, 2f)),
                        new GgufWriter.Array(GgufValueType.BOOL, List.of(false))))
                .putArray("empty", GgufValueType.INT32, List.of());
        for (GgmlType type : FLOAT_TYPES) {
            writer.addTensor("t." + type, type, new long[] {2, 64}, values);
        }
        writer.addTensor("vector", GgmlType.F32, new long[] {3}, new float[] {1, 2, 3});
        Path file = dir.resolve("all.gguf");
        writer.write(file);

        GgufFile gguf = GgufFile.open(file);
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put(GgufFile.ALIGNMENT_KEY, 64L);
        expected.put("s", "ünïcode");
        expected.put("u8", 255L);
        expected.put("i8", -128L);
        expected.put("u16", 65535L);
        expected.put("i16", -32768L);
        expected.put("u32", 4_000_000_000L);
        expected.put("i32", (long) Integer.MIN_VALUE);
        expected.put("u64", -1L);
        expected.put("i64", Long.MIN_VALUE);
        expected.put("f32", 0.1f);
        expected.put("f64", 0.1);
        expected.put("bool", true);
        expected.put("strings", List.of("a", "", "c"));
        expected.put("nested", List.of(List.of(1f, 2f), List.of(false)));
        expected.put("empty", List.of());
        assertEquals(expected, gguf.metadata());
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(gguf.metadata().keySet()), "metadata keeps its order");
        assertEquals(64, gguf.alignment());
        assertEquals(0, gguf.dataStart() % 64);
        for (GgmlType type : FLOAT_TYPES) {
            GgufTensorInfo info = gguf.tensorInfo("t." + type);
            assertEquals(type, info.type());
            assertArrayEquals(new long[] {64, 2}, info.dims());
            assertEquals(0, info.offset() % 64);
            float[] read = gguf.tensor(info).toFloatArray();
            for (int i = 0; i < values.length; i++) {
                assertEquals(values[i], read[i], type == GgmlType.F32 ? 0 : 0.01, type + " value " + i);
            }
        }
        assertArrayEquals(new float[] {1, 2, 3}, gguf.tensor("vector").toFloatArray());
    }

    @Test
    void rawTensorsRoundTripAsBytes() throws IOException {
        byte[] data = {1, -2, 3, -4, 5, -6, 7, -128};
        Path file = dir.resolve("raw.gguf");
        new GgufWriter().addRawTensor("signs", GgmlType.I8, new long[] {2, 4},
                (row, bytes) -> System.arraycopy(data, (int) row * 4, bytes, 0, 4)).write(file);
        GgufFile gguf = GgufFile.open(file);
        GgufTensorInfo info = gguf.tensorInfo("signs");
        assertEquals(GgmlType.I8, info.type());
        assertArrayEquals(new long[] {2, 4}, info.shape());
        assertArrayEquals(data, gguf.bytes(info).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        assertThrows(ModelFormatException.class, () -> gguf.tensor(info));
        assertThrows(IllegalArgumentException.class, () -> new GgufWriter().addTensor("x", GgmlType.I8, new long[] {4}, new float[4]));
    }

    @Test
    void writerStreamsRowsInOrder() throws IOException {
        long[] seen = {0};
        Path file = dir.resolve("rows.gguf");
        new GgufWriter().addTensor("m", GgmlType.Q8_0, new long[] {5, 3, 32}, (row, out) -> {
            assertEquals(seen[0]++, row);
            Arrays.fill(out, row);
        }).write(file);
        assertEquals(15, seen[0]);
        FloatTensor t = GgufFile.open(file).tensor("m");
        assertEquals(14f, t.getFloat(14 * 32 + 31), 14f / 127);
        assertArrayEquals(new long[] {5, 3, 32}, GgufFile.open(file).tensorInfo("m").shape());
    }

    @Test
    void writerRejectsInvalidInput() {
        GgufWriter w = new GgufWriter();
        assertThrows(IllegalArgumentException.class, () -> w.put("x", GgufValueType.UINT8, 256));
        assertThrows(IllegalArgumentException.class, () -> w.putUInt32("x", -1));
        assertThrows(IllegalArgumentException.class, () -> w.put("x", GgufValueType.STRING, 1));
        assertThrows(IllegalArgumentException.class, () -> w.putArray("x", GgufValueType.INT8, List.of(1, 1000)));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("q", GgmlType.Q8_0, new long[] {2, 16}, new float[32]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("f", GgmlType.F32, new long[] {2, 16}, new float[31]));
        w.putString("k", "v");
        assertThrows(IllegalArgumentException.class, () -> w.putString("k", "again"));
    }

    @Test
    void duplicateMetadataKey() throws IOException {
        byte[] bytes = new HandLaid().bytes();
        byte[] second = "tiny.numbers".getBytes(StandardCharsets.UTF_8);
        System.arraycopy("general.name".getBytes(StandardCharsets.UTF_8), 0, bytes, indexOf(bytes, second), second.length);
        assertError(write("dup.gguf", bytes), "metadata 'general.name'", "duplicate key");
    }

    /**
     * A tensor whose pages were given back stays out of the resident set when its neighbour in the file
     * is read: in one mapping of the whole file the kernel's fault-around mapped them again.
     */
    @Test
    void readingATensorDoesNotMapItsNeighbour() throws IOException {
        Path pagemap = Path.of("/proc/self/pagemap");
        assumeTrue(Files.isReadable(pagemap), "needs Linux's /proc/self/pagemap");
        int n = (1 << 18) + (12 << 10); // 1 MiB + 48 KB of F32 each: b starts late in a 64 KB fault-around window
        float[] values = new float[n];
        Arrays.fill(values, 1.5f);
        Path file = dir.resolve("two.gguf");
        new GgufWriter().addTensor("a", GgmlType.F32, new long[] {n}, values).addTensor("b", GgmlType.F32, new long[] {n}, values).write(file);
        GgufFile gguf = GgufFile.open(file);
        MemorySegment a = gguf.bytes(gguf.tensorInfo("a"));
        FloatTensor tensorA = gguf.tensor("a");
        assertEquals(1.5f * n, sum(tensorA.toFloatArray()));
        assertTrue(residentPages(pagemap, a) > 200, "a was read");
        // reading a mapped the start of b too (fault-around): give both back, then fault in b's second page
        tensorA.releasePages();
        gguf.tensor("b").releasePages();
        assertEquals(1.5f, gguf.tensor("b").getFloat(1024));
        assertEquals(0, residentPages(pagemap, a.asSlice(4096, a.byteSize() - 2 * 4096)), "pages of a resident again");
    }

    private static float sum(float[] values) {
        float s = 0;
        for (float v : values) {
            s += v;
        }
        return s;
    }

    /** Pages of segment the process has mapped: bit 63 of each 8-byte /proc/self/pagemap entry. */
    private static int residentPages(Path pagemap, MemorySegment segment) throws IOException {
        long first = segment.address() / 4096;
        long last = (segment.address() + segment.byteSize() - 1) / 4096;
        ByteBuffer entries = ByteBuffer.allocate((int) (last - first + 1) * 8).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel channel = FileChannel.open(pagemap, StandardOpenOption.READ)) {
            while (entries.hasRemaining() && channel.read(entries, first * 8 + entries.position()) > 0) {
                // read until full
            }
        }
        int present = 0;
        for (int i = 0; i < entries.capacity(); i += 8) {
            present += entries.getLong(i) < 0 ? 1 : 0;
        }
        return present;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    private static void assertError(Path file, String field, String problem) {
        ModelFormatException e = assertError(() -> GgufFile.open(file), field, problem);
        assertTrue(e.getMessage().startsWith(file + ": "), "file named in: " + e.getMessage());
    }

    private static ModelFormatException assertError(Executable open, String field, String problem) {
        ModelFormatException e = assertThrows(ModelFormatException.class, open);
        assertTrue(e.getMessage().contains(": " + field + ": "), "field '" + field + "' in: " + e.getMessage());
        assertTrue(e.getMessage().contains(problem), "'" + problem + "' in: " + e.getMessage());
        return e;
    }
}
