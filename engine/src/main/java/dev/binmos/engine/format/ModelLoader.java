package dev.binmos.engine.format;

import dev.binmos.engine.format.gguf.GgufModel;
import dev.binmos.engine.format.safetensors.SafetensorsModel;
import dev.binmos.engine.model.Llama;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Opens a model in any format the engine reads, told apart by content rather than by file name. */
public final class ModelLoader {
    private ModelLoader() {
    }

    /**
     * @param model     a GGUF file, a llama2.c checkpoint, or a Hugging Face directory (config.json +
     *                  safetensors) or one of its files
     * @param tokenizer llama2.c tokenizer file, or null for the model's own (GGUF metadata, or a file
     *                  beside the model)
     */
    public static Llama load(Path model, Path tokenizer) {
        if (!Files.exists(model)) {
            throw new UncheckedIOException(new NoSuchFileException(model.toString(), null, "model file not found"));
        }
        String name = model.getFileName().toString();
        if (Files.isDirectory(model) || name.endsWith(".safetensors") || name.endsWith(".safetensors.index.json")
                || name.equals("config.json")) {
            return SafetensorsModel.load(model, tokenizer);
        }
        if (startsWithGgufMagic(model)) {
            return GgufModel.load(model, tokenizer);
        }
        return Llama2cLoader.load(model, tokenizer);
    }

    private static boolean startsWithGgufMagic(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' && magic[3] == 'F';
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model " + file + ": " + e.getMessage(), e);
        }
    }
}
