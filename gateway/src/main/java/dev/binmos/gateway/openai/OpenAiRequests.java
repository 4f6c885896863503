package dev.binmos.gateway.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.binmos.gateway.GatewayException;
import dev.binmos.gateway.chat.ChatTemplate;
import dev.binmos.proto.v1.GenerateRequest;
import dev.binmos.proto.v1.SamplingParameters;
import dev.binmos.proto.v1.TokenIds;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI request bodies to router requests. Checks what only the REST API has (prompt shapes, chat messages,
 * OpenAI parameters accepted only at their neutral value); the ranges both APIs share are {@code RequestRules}'.
 */
public final class OpenAiRequests {

    /** OpenAI's default temperature (the proto's default, 0, would be greedy). */
    private static final float DEFAULT_TEMPERATURE = 1f;

    private OpenAiRequests() {
    }

    /** A completion request without its model (the caller resolves it). */
    public static GenerateRequest.Builder completion(CompletionRequest body, int defaultMaxTokens) {
        GenerateRequest.Builder out = common(body, body.maxTokens() != null ? body.maxTokens() : defaultMaxTokens);
        JsonNode prompt = body.prompt();
        if (prompt == null || prompt.isNull()) {
            throw GatewayException.invalid("prompt", "prompt is required");
        } else if (prompt.isTextual()) {
            out.setPrompt(prompt.textValue());
        } else if (prompt.isArray() && !prompt.isEmpty() && allInts(prompt)) {
            TokenIds.Builder ids = TokenIds.newBuilder();
            prompt.forEach(id -> ids.addIds(id.intValue()));
            out.setTokenIds(ids);
        } else {
            throw GatewayException.invalid("prompt",
                    "prompt must be a string or a non-empty list of token ids (batched prompts are not supported)");
        }
        if (body.logprobs() != null) {
            require(body.logprobs() == 0, "logprobs",
                    "logprobs must be 0: only the sampled token's log-probability is available, not alternatives");
            out.setLogprobs(true);
        }
        return out;
    }

    /** A chat request without its model and prompt: the model's chat template renders {@link #messages}. */
    public static GenerateRequest.Builder chat(ChatCompletionRequest body) {
        require(body.maxTokens() == null || body.maxCompletionTokens() == null, "max_completion_tokens",
                "set max_tokens or max_completion_tokens, not both");
        Integer maxTokens = body.maxCompletionTokens() != null ? body.maxCompletionTokens() : body.maxTokens();
        GenerateRequest.Builder out = common(body, maxTokens);
        require(body.topLogprobs() == null || body.topLogprobs() == 0, "top_logprobs",
                "top_logprobs must be 0: alternatives' log-probabilities are not available");
        out.setLogprobs(Boolean.TRUE.equals(body.logprobs()));
        return out;
    }

    /** The chat messages, checked: at least one; roles system, user or assistant; text content. */
    public static List<ChatTemplate.Message> messages(ChatCompletionRequest body) {
        require(body.messages() != null && !body.messages().isEmpty(), "messages", "messages must hold at least one message");
        List<ChatTemplate.Message> out = new ArrayList<>();
        for (int i = 0; i < body.messages().size(); i++) {
            ChatCompletionRequest.Message m = body.messages().get(i);
            String param = "messages[" + i + "]";
            require(m != null, param, param + " must be an object");
            require(m.role() != null && ChatTemplate.ROLES.contains(m.role()), param + ".role",
                    param + ".role must be one of " + ChatTemplate.ROLES + ", got " + m.role());
            out.add(new ChatTemplate.Message(m.role(), text(m.content(), param + ".content")));
        }
        return out;
    }

    private static GenerateRequest.Builder common(OpenAiRequest body, Integer maxTokens) {
        require(body.n() == null || body.n() == 1, "n", "n must be 1: one choice per request");
        require(body.frequencyPenalty() == null || body.frequencyPenalty() == 0, "frequency_penalty",
                "frequency_penalty is not supported (only 0); use repetition_penalty");
        require(body.presencePenalty() == null || body.presencePenalty() == 0, "presence_penalty",
                "presence_penalty is not supported (only 0); use repetition_penalty");
        SamplingParameters.Builder sampling = SamplingParameters.newBuilder()
                .setTemperature(body.temperature() != null ? body.temperature().floatValue() : DEFAULT_TEMPERATURE)
                .setTopK(body.topK() != null && body.topK() != -1 ? body.topK() : 0)
                .setMinP(body.minP() != null ? body.minP().floatValue() : 0f);
        if (body.topP() != null) {
            sampling.setTopP(body.topP().floatValue());
        }
        if (body.repetitionPenalty() != null) {
            sampling.setRepetitionPenalty(body.repetitionPenalty().floatValue());
        }
        if (body.seed() != null) {
            sampling.setSeed(body.seed());
        }
        GenerateRequest.Builder out = GenerateRequest.newBuilder().setSampling(sampling);
        if (maxTokens != null) {
            out.setMaxTokens(maxTokens);
        }
        if (body.stop() != null) {
            for (String stop : body.stop()) {
                require(stop != null, "stop", "stop must be a string or a list of strings");
                out.addStop(stop);
            }
        }
        return out;
    }

    private static String text(JsonNode content, String param) {
        if (content != null && content.isTextual()) {
            return content.textValue();
        }
        if (content != null && content.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode part : content) {
                require(part.isObject() && "text".equals(part.path("type").asText()) && part.path("text").isTextual()
                                && part.size() == 2, param,
                        param + " parts must be {\"type\": \"text\", \"text\": ...} (only text is supported)");
                text.append(part.get("text").textValue());
            }
            return text.toString();
        }
        throw GatewayException.invalid(param, param + " must be a string or a list of text parts");
    }

    private static boolean allInts(JsonNode array) {
        for (JsonNode id : array) {
            if (!id.isInt()) {
                return false;
            }
        }
        return true;
    }

    private static void require(boolean ok, String param, String message) {
        if (!ok) {
            throw GatewayException.invalid(param, message);
        }
    }
}
