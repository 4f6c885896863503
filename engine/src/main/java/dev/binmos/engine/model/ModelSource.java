package dev.binmos.engine.model;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where a model came from and what its file holds.
 *
 * @param format   "llama2c", "gguf" or "safetensors"
 * @param metadata key/value metadata (GGUF keys, or config.json fields); values are String, Number,
 *                 Boolean or List
 */
public record ModelSource(Path path, String format, Map<String, Object> metadata, List<TensorEntry> tensors) {

    public long tensorBytes() {
        return tensors.stream().mapToLong(TensorEntry::bytes).sum();
    }
}
