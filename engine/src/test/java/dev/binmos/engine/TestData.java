package dev.binmos.engine;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths into the read-only ../shared folder beside the repository (system property binmos.shared). */
public final class TestData {
    private TestData() {
    }

    public static Path shared(String relative) {
        String root = System.getProperty("binmos.shared", "../shared");
        Path p = Path.of(root).resolve(relative).normalize();
        if (!Files.exists(p)) {
            throw new IllegalStateException("missing shared test data " + p + " (set -Dbinmos.shared to the shared folder)");
        }
        return p;
    }
}
