package dev.binmos.gateway;

import dev.binmos.proto.v1.GenerateRequest;
import dev.binmos.proto.v1.ModelInfo;
import dev.binmos.proto.v1.SamplingParameters;
import java.util.function.UnaryOperator;

/**
 * The gateway's checks of a generation request, shared by the gRPC and REST APIs, so both reject the same requests
 * with the same messages. Whether the prompt fits the context is the router's check (it tokenizes).
 */
public final class RequestRules {

    /** Field names as gRPC clients know them (the proto's). */
    public static final UnaryOperator<String> PROTO_NAMES = UnaryOperator.identity();
    /** Field names as OpenAI clients know them: sampling fields are top-level. */
    public static final UnaryOperator<String> OPENAI_NAMES = name -> name.startsWith("sampling.")
            ? name.substring("sampling.".length()) : name.equals("token_ids") ? "prompt" : name;

    private RequestRules() {
    }

    /** @throws GatewayException INVALID_ARGUMENT naming the first field at fault */
    public static void check(GenerateRequest request, ModelInfo model, UnaryOperator<String> names) {
        switch (request.getInputCase()) {
            case PROMPT -> require(!request.getPrompt().isEmpty(), names.apply("prompt"), "must not be empty");
            case TOKEN_IDS -> {
                require(request.getTokenIds().getIdsCount() > 0, names.apply("token_ids"), "must not be empty");
                for (int id : request.getTokenIds().getIdsList()) {
                    require(id >= 0 && id < model.getVocabSize(), names.apply("token_ids"),
                            "holds token id " + id + ", outside the vocabulary [0, " + model.getVocabSize() + ")");
                }
            }
            case INPUT_NOT_SET -> throw GatewayException.invalid(names.apply("prompt"), names.apply("prompt") + " is required");
        }
        SamplingParameters s = request.getSampling();
        require(Float.isFinite(s.getTemperature()) && s.getTemperature() >= 0, names.apply("sampling.temperature"),
                "must be a finite number >= 0 (0 is greedy), got " + s.getTemperature());
        require(s.getTopK() >= 0, names.apply("sampling.top_k"), "must be >= 0 (0 is off), got " + s.getTopK());
        require(!s.hasTopP() || s.getTopP() > 0 && s.getTopP() <= 1, names.apply("sampling.top_p"),
                "must be in (0, 1], got " + s.getTopP());
        require(s.getMinP() >= 0 && s.getMinP() < 1, names.apply("sampling.min_p"), "must be in [0, 1), got " + s.getMinP());
        require(!s.hasRepetitionPenalty() || Float.isFinite(s.getRepetitionPenalty()) && s.getRepetitionPenalty() > 0,
                names.apply("sampling.repetition_penalty"),
                "must be a finite number > 0 (1 is off), got " + s.getRepetitionPenalty());
        require(!request.hasMaxTokens() || request.getMaxTokens() >= 1, names.apply("max_tokens"),
                "must be at least 1, got " + request.getMaxTokens());
        for (String stop : request.getStopList()) {
            require(!stop.isEmpty(), names.apply("stop"), "must not hold an empty string");
        }
    }

    private static void require(boolean ok, String param, String problem) {
        if (!ok) {
            throw GatewayException.invalid(param, param + " " + problem);
        }
    }
}
