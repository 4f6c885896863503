package dev.binmos.engine.perf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The process's resident set from {@code /proc/self/status} (Linux): mapped model pages that were touched
 * count, as do heap, code and native buffers. Empty where the file does not exist.
 */
public final class ResidentMemory {
    private ResidentMemory() {
    }

    /** Peak resident bytes so far (VmHWM). */
    public static OptionalLong peak() {
        return field("VmHWM:");
    }

    /** Resident bytes now (VmRSS). */
    public static OptionalLong current() {
        return field("VmRSS:");
    }

    /** Resident bytes now of anonymous memory: heap, native buffers, JVM structures (RssAnon). */
    public static OptionalLong anonymous() {
        return field("RssAnon:");
    }

    /** Resident bytes now of mapped files: the model's pages that were read, the JVM's own files (RssFile). */
    public static OptionalLong files() {
        return field("RssFile:");
    }

    private static OptionalLong field(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name)) {
                    String[] parts = line.substring(name.length()).trim().split("\\s+");
                    return OptionalLong.of(Long.parseLong(parts[0]) * 1024);
                }
            }
            return OptionalLong.empty();
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }
}
