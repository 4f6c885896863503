package dev.binmos.engine.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void parsesAllValueTypes() {
        Map<String, Object> m = Json.parseObject(" {\"b\": [1, -2.5e3, 0.25, true, false, null], \"a\": {\"s\": \"x\\u00e9\\n\\\"\\ud83d\\ude00\"},"
                + " \"big\": 12345678901234567890, \"long\": 9007199254740993} ");
        assertEquals(List.of("b", "a", "big", "long"), new ArrayList<>(m.keySet()), "keys keep file order");
        assertEquals(Arrays.asList(1L, -2500.0, 0.25, true, false, null), m.get("b"));
        assertEquals(Map.of("s", "xé\n\"😀"), m.get("a"));
        assertEquals(1.2345678901234567e19, m.get("big"), "integers beyond long become doubles");
        assertEquals(9007199254740993L, m.get("long"), "integers keep full long precision");
    }

    @Test
    void writesAndReadsBack() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("text", "tab\t quote\" backslash\\ control\u0001 ünï");
        value.put("numbers", List.of(1L, -7L, 0.1, 1.0e-30, 3.5));
        value.put("nested", Map.of("empty", List.of(), "null", "null"));
        value.put("flag", true);
        value.put("nothing", null);
        String json = Json.write(value);
        assertEquals(value, Json.parse(json));
        assertEquals("[1,2]", Json.write(new int[] {1, 2}));
        assertEquals("[0.5,1.0E-5]", Json.write(new float[] {0.5f, 1e-5f}));
        assertEquals("\"a\\u001fb\"", Json.quote("a\u001fb"));
    }

    @Test
    void writerRejectsWhatJsonCannotHold() {
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Float.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of(1, 2)));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
    }

    @Test
    void errorsGivePositions() {
        assertError("{\"a\": 1,}", "expected a string key at position 8");
        assertError("[1 2]", "expected ',' or ']' in array at position 3");
        assertError("{\"a\": 1, \"a\": 2}", "duplicate key \"a\" at position 9");
        assertError("[01]", "expected ',' or ']' in array at position 2");
        assertError("\"abc", "unterminated string starting at position 0");
        assertError("\"a\nb\"", "control character 0xa in string at position 2");
        assertError("[NaN]", "unexpected 'N', expected a value at position 1");
        assertError("{} x", "unexpected 'x' after the value at position 3");
        assertError("", "unexpected end of input, expected a value at position 0");
        assertError("1.", "expected a digit after '.' at position 2");
        assertError("\"\\x\"", "invalid escape '\\x' at position 1");
        assertError("tru", "invalid literal, expected true at position 0");
        assertError("[".repeat(10_000), "nesting deeper than 512 at position 513");
    }

    @Test
    void parseObjectRequiresAnObject() {
        Json.JsonException e = assertThrows(Json.JsonException.class, () -> Json.parseObject("[1]"));
        assertTrue(e.getMessage().contains("expected an object, found an array"), e.getMessage());
    }

    private static void assertError(String text, String message) {
        Json.JsonException e = assertThrows(Json.JsonException.class, () -> Json.parse(text));
        assertEquals(message, e.getMessage());
    }
}
