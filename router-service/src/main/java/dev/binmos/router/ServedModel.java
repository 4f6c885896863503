package dev.binmos.router;

import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.tokenizer.Tokenizer;
import dev.binmos.proto.v1.ModelInfo;

/**
 * A model the router serves: its id, hyper-parameters, tokenizer, file hash and chat template (GGUF
 * {@code tokenizer.chat_template}, empty when it has none); no weights.
 */
public record ServedModel(String id, Configuration config, Tokenizer tokenizer, String sha256, String chatTemplate) {

    public ModelInfo info() {
        return ModelInfo.newBuilder()
                .setId(id)
                .setArchitecture("llama")
                .setLayers(config.layers())
                .setContextLength(config.contextLength())
                .setVocabSize(config.vocabSize())
                .setChatTemplate(chatTemplate)
                .build();
    }
}
