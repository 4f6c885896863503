package dev.binmos.engine.format.gguf;

import dev.binmos.engine.format.ModelFormatException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A bounds-checked little-endian cursor over a GGUF file. Every length is checked against the bytes
 * left before anything is allocated, so a corrupt or hostile header fails with a
 * {@link ModelFormatException} naming the field instead of running out of memory.
 */
final class GgufReader {
    /** Arrays nest at most this deep; real files use one level. Bounds the recursion. */
    private static final int MAX_ARRAY_DEPTH = 64;

    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final MemorySegment data;
    private long pos;

    GgufReader(Path file, MemorySegment data) {
        this.file = file;
        this.data = data;
    }

    long position() {
        return pos;
    }

    long remaining() {
        return data.byteSize() - pos;
    }

    ModelFormatException error(String field, String problem) {
        return new ModelFormatException(file, field, problem);
    }

    private void need(long bytes, String field) {
        if (bytes > remaining()) {
            throw error(field, "file truncated: needs " + bytes + " bytes at offset " + pos + " but the file ends at " + data.byteSize());
        }
    }

    byte u8(String field) {
        need(1, field);
        return data.get(ValueLayout.JAVA_BYTE, pos++);
    }

    short u16(String field) {
        need(2, field);
        short v = data.get(SHORT, pos);
        pos += 2;
        return v;
    }

    int u32(String field) {
        need(4, field);
        int v = data.get(INT, pos);
        pos += 4;
        return v;
    }

    long u64(String field) {
        need(8, field);
        long v = data.get(LONG, pos);
        pos += 8;
        return v;
    }

    /** A uint64 count of items taking at least {@code minBytes} each, checked against the bytes left. */
    long count(String field, String items, long minBytes) {
        long n = u64(field);
        if (n < 0 || n > remaining() / minBytes) {
            throw error(field, Long.toUnsignedString(n) + " " + items + " cannot fit in the " + remaining()
                    + " bytes left after offset " + pos + " (file of " + data.byteSize() + " bytes)");
        }
        return n;
    }

    String string(String field) {
        long length = count(field + " length", "bytes", 1);
        if (length > Integer.MAX_VALUE - 8) {
            throw error(field + " length", "string of " + length + " bytes is longer than Binmos reads");
        }
        byte[] bytes = data.asSlice(pos, length).toArray(ValueLayout.JAVA_BYTE);
        pos += length;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    GgufValueType valueType(String field) {
        int id = u32(field);
        GgufValueType type = GgufValueType.byId(id);
        if (type == null) {
            throw error(field, "unknown metadata value type " + Integer.toUnsignedString(id) + " (GGUF defines 0 to 12)");
        }
        return type;
    }

    /** A metadata value: integers as Long, FLOAT32 as Float, FLOAT64 as Double, arrays as List. */
    Object value(GgufValueType type, String field) {
        return value(type, field, 0);
    }

    private Object value(GgufValueType type, String field, int depth) {
        return switch (type) {
            case UINT8 -> (long) Byte.toUnsignedInt(u8(field));
            case INT8 -> (long) u8(field);
            case UINT16 -> (long) Short.toUnsignedInt(u16(field));
            case INT16 -> (long) u16(field);
            case UINT32 -> Integer.toUnsignedLong(u32(field));
            case INT32 -> (long) u32(field);
            // UINT64 above Long.MAX_VALUE keeps its bits: a negative Long (Long.toUnsignedString reads it).
            case UINT64, INT64 -> u64(field);
            case FLOAT32 -> Float.intBitsToFloat(u32(field));
            case FLOAT64 -> Double.longBitsToDouble(u64(field));
            case BOOL -> bool(field);
            case STRING -> string(field);
            case ARRAY -> array(field, depth);
        };
    }

    private Boolean bool(String field) {
        byte b = u8(field);
        if (b != 0 && b != 1) {
            throw error(field, "bool must be 0 or 1, found " + b);
        }
        return b == 1;
    }

    private List<Object> array(String field, int depth) {
        if (depth >= MAX_ARRAY_DEPTH) {
            throw error(field, "arrays nested deeper than " + MAX_ARRAY_DEPTH);
        }
        GgufValueType elementType = valueType(field + " element type");
        long length = count(field + " array length", elementType + " elements", elementType.minBytes);
        List<Object> values = new ArrayList<>((int) Math.min(length, 1 << 16));
        String elementField = depth == 0 ? field + " element" : field;
        for (long i = 0; i < length; i++) {
            values.add(value(elementType, elementField, depth + 1));
        }
        return Collections.unmodifiableList(values);
    }
}
