package dev.binmos.router;

import dev.binmos.engine.generate.Generation;
import dev.binmos.engine.sampling.SamplingParams;
import dev.binmos.proto.v1.GenerateRequest;
import dev.binmos.proto.v1.GenerateResponse;
import dev.binmos.proto.v1.SamplingParameters;
import dev.binmos.router.scheduler.GenerationRequest;
import dev.binmos.router.scheduler.RouterSession;
import dev.binmos.router.scheduler.SessionStore;
import io.grpc.Status;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.subscription.MultiEmitter;
import jakarta.inject.Singleton;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Turns a GenerateRequest into a {@link GenerationRequest}, or fails with INVALID_ARGUMENT naming the
 * field (NOT_FOUND / FAILED_PRECONDITION for the session to continue).
 */
@Singleton
public class RequestValidator {
    private final ServedModels models;
    private final SessionStore sessions;
    private final RouterMetrics metrics;

    RequestValidator(ServedModels models, SessionStore sessions, RouterMetrics metrics) {
        this.models = models;
        this.sessions = sessions;
        this.metrics = metrics;
    }

    public GenerationRequest prepare(GenerateRequest request, MultiEmitter<? super GenerateResponse> emitter, Context trace) {
        ServedModel model = models.find(request.getModel());
        boolean newSession = request.getSessionId().isEmpty();
        int[] input = input(request, model, newSession);
        if (request.hasMaxTokens() && request.getMaxTokens() < 0) {
            throw invalid("max_tokens must not be negative, got " + request.getMaxTokens());
        }
        int context = model.config().contextLength();
        // unset: until the context is full (the generation state stops there)
        int maxTokens = request.hasMaxTokens() ? request.getMaxTokens() : context + 1;
        Generation generation;
        try {
            generation = new Generation(maxTokens, sampling(request.getSampling()), request.getStopList());
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
        if (input.length > context) {
            throw invalid("the prompt has " + input.length + " tokens; the context of model " + model.id() + " holds " + context);
        }
        RouterSession continued = newSession ? null : sessions.claim(request.getSessionId(), model, input.length);
        return new GenerationRequest(UUID.randomUUID().toString(), model, input, generation, request.getLogprobs(), continued,
                emitter, trace, metrics);
    }

    private static int[] input(GenerateRequest request, ServedModel model, boolean newSession) {
        return switch (request.getInputCase()) {
            case PROMPT -> {
                if (request.getPrompt().isEmpty()) {
                    throw invalid("prompt must not be empty");
                }
                yield model.tokenizer().encode(request.getPrompt(), newSession, false);
            }
            case TOKEN_IDS -> {
                int[] ids = request.getTokenIds().getIdsList().stream().mapToInt(Integer::intValue).toArray();
                if (ids.length == 0) {
                    throw invalid("token_ids must not be empty");
                }
                int vocab = model.config().vocabSize();
                for (int id : ids) {
                    if (id < 0 || id >= vocab) {
                        throw invalid("token id " + id + " is outside the vocabulary [0, " + vocab + ") of model " + model.id());
                    }
                }
                yield ids;
            }
            case INPUT_NOT_SET -> throw invalid("prompt or token_ids is required");
        };
    }

    private static SamplingParams sampling(SamplingParameters p) {
        try {
            return new SamplingParams(p.getTemperature(), p.getTopK(), p.hasTopP() ? p.getTopP() : 1, p.getMinP(),
                    p.hasRepetitionPenalty() ? p.getRepetitionPenalty() : 1,
                    p.hasSeed() ? p.getSeed() : ThreadLocalRandom.current().nextLong());
        } catch (IllegalArgumentException e) {
            throw invalid("sampling: " + e.getMessage());
        }
    }

    private static RuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }
}
