package dev.binmos.router;

import dev.binmos.engine.format.ModelHash;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.model.Llama;
import io.grpc.Status;
import io.quarkus.runtime.Startup;
import jakarta.inject.Singleton;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import org.jboss.logging.Logger;

/**
 * The configured models, loaded at start through the engine's loader: the file is mapped but only
 * its header, tokenizer and norm vectors are read; the router never runs a layer.
 */
@Startup
@Singleton
public class ServedModels {
    private static final Logger LOG = Logger.getLogger(ServedModels.class);

    private final Map<String, ServedModel> models = new TreeMap<>();

    ServedModels(RouterConfig config) {
        config.models().forEach((id, model) -> {
            Llama llama = ModelLoader.load(model.path(), model.tokenizer().orElse(null));
            String sha256 = model.sha256().orElseGet(() -> ModelHash.sha256(model.path()));
            Object template = llama.source().metadata().get("tokenizer.chat_template");
            models.put(id, new ServedModel(id, llama.config(), llama.tokenizer(), sha256, template instanceof String t ? t : ""));
            LOG.infof("serving model %s (%s, sha256 %s…): %d layers, context %d", id, model.path(), sha256.substring(0, 12),
                    llama.config().layers(), llama.config().contextLength());
        });
    }

    public Collection<ServedModel> all() {
        return models.values();
    }

    /** The model a request names; empty names the only model served. INVALID_ARGUMENT otherwise. */
    public ServedModel find(String id) {
        if (models.isEmpty()) {
            throw Status.INVALID_ARGUMENT.withDescription("this router serves no model (configure binmos.router.models.<id>.path)")
                    .asRuntimeException();
        }
        if (id.isEmpty()) {
            if (models.size() == 1) {
                return models.values().iterator().next();
            }
            throw Status.INVALID_ARGUMENT.withDescription("model is required: serving " + models.keySet()).asRuntimeException();
        }
        ServedModel model = models.get(id);
        if (model == null) {
            throw Status.INVALID_ARGUMENT.withDescription("unknown model '" + id + "': serving " + models.keySet()).asRuntimeException();
        }
        return model;
    }
}
