package dev.binmos.tests;

import java.nio.file.Files;
import java.nio.file.Path;

/** The shared example models (directory from system property {@code binmos.shared}, set by surefire). */
public final class TestModels {
    private TestModels() {
    }

    /** stories260K as a llama2.c checkpoint: 5 layers, context 512, vocabulary 512 (tok512.bin beside it). */
    public static Path stories() {
        Path model = shared().resolve("models/stories260K.bin");
        if (!Files.isRegularFile(model)) {
            throw new IllegalStateException(model + " is missing");
        }
        return model;
    }

    public static Path shared() {
        return Path.of(ServiceProcess.requiredProperty("binmos.shared")).toAbsolutePath().normalize();
    }
}
