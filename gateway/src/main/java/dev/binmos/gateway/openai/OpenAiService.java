package dev.binmos.gateway.openai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.binmos.gateway.GatewayConfig;
import dev.binmos.gateway.GatewayException;
import dev.binmos.gateway.GenerationObserver;
import dev.binmos.gateway.RequestRules;
import dev.binmos.gateway.chat.ChatTemplate;
import dev.binmos.gateway.openai.Responses.Usage;
import dev.binmos.gateway.router.ModelCatalog;
import dev.binmos.gateway.router.RouterClient;
import dev.binmos.proto.v1.GenerateRequest;
import dev.binmos.proto.v1.GenerateResponse;
import dev.binmos.proto.v1.GeneratedToken;
import dev.binmos.proto.v1.GenerationFinished;
import dev.binmos.proto.v1.ModelInfo;
import io.grpc.Deadline;
import io.grpc.Status;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jboss.resteasy.reactive.RestMulti;

/**
 * The OpenAI-compatible API over the router: resolves the model, builds and checks the router request, then
 * answers with one JSON body or, with {@code stream: true}, server-sent events ({@code data: JSON} then
 * {@code data: [DONE]}). Failures before the first byte become HTTP errors; later ones an error event.
 */
@ApplicationScoped
public class OpenAiService {

    private static final String DONE = "data: [DONE]\n\n";

    private final ModelCatalog catalog;
    private final RouterClient router;
    private final GenerationObserver observer;
    private final GatewayConfig config;
    private final ObjectMapper json;

    OpenAiService(ModelCatalog catalog, RouterClient router, GenerationObserver observer, GatewayConfig config,
            ObjectMapper json) {
        this.catalog = catalog;
        this.router = router;
        this.observer = observer;
        this.config = config;
        this.json = json;
    }

    public RestMulti<String> completions(CompletionRequest body, String requestId) {
        requireBody(body);
        GenerateRequest.Builder request = OpenAiRequests.completion(body, config.completionMaxTokens());
        String id = "cmpl-" + requestId;
        return respond(requestId, Boolean.TRUE.equals(body.stream()), catalog.resolve(body.model()).map(model -> new Call(
                model, request.setModel(model.getId()).build(),
                new CompletionFormat(id, nowSeconds(), model.getId(), request.getLogprobs()))));
    }

    public RestMulti<String> chatCompletions(ChatCompletionRequest body, String requestId) {
        requireBody(body);
        GenerateRequest.Builder request = OpenAiRequests.chat(body);
        List<ChatTemplate.Message> messages = OpenAiRequests.messages(body);
        String id = "chatcmpl-" + requestId;
        return respond(requestId, Boolean.TRUE.equals(body.stream()), catalog.resolve(body.model()).map(model -> {
            ChatTemplate.Rendered rendered = ChatTemplate.recognize(model.getChatTemplate()).apply(messages);
            request.setModel(model.getId()).setPrompt(rendered.prompt()).addAllStop(rendered.stops());
            return new Call(model, request.build(), new ChatFormat(id, nowSeconds(), model.getId(), request.getLogprobs()));
        }));
    }

    public Uni<Responses.ModelList> models() {
        return catalog.models().map(models -> new Responses.ModelList("list", models.stream()
                .map(m -> new Responses.Model(m.getId(), "model", nowSeconds(), "binmos", m.getContextLength()))
                .toList()));
    }

    /** A request with its model resolved: what goes to the router, and the shape of the answer. */
    private record Call(ModelInfo model, GenerateRequest request, OpenAiFormat format) {
    }

    private RestMulti<String> respond(String requestId, boolean stream, Uni<Call> prepared) {
        Multi<String> body = prepared.onItem().transformToMulti(call -> {
            RequestRules.check(call.request(), call.model(), RequestRules.OPENAI_NAMES);
            Deadline deadline = Deadline.after(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
            Multi<GenerateResponse> events = observer.observe("rest", requestId, call.model().getId(),
                    router.generate(call.request(), deadline, requestId));
            return stream ? events(events, call) : whole(events, call);
        });
        RestMulti.SyncRestMulti.Builder<String> response = RestMulti.fromMultiData(body)
                .header(HttpHeaders.CONTENT_TYPE, stream ? MediaType.SERVER_SENT_EVENTS : MediaType.APPLICATION_JSON)
                .header("X-Request-Id", requestId);
        if (stream) {
            response.header(HttpHeaders.CACHE_CONTROL, "no-cache");
        }
        return response.build();
    }

    /** One JSON body once the generation has finished. */
    private Multi<String> whole(Multi<GenerateResponse> events, Call call) {
        return events.collect().in(Collected::new, Collected::add)
                .map(collected -> {
                    GenerationFinished finished = finishedOk(collected.finished);
                    String text = collected.text.append(finished.getText()).toString();
                    return write(call.format().response(text, collected.tokens, FinishReasons.openAi(finished.getReason()),
                            Usage.of(finished.getUsage())));
                })
                .toMulti();
    }

    private static final class Collected {
        final StringBuilder text = new StringBuilder();
        final List<GeneratedToken> tokens = new ArrayList<>();
        GenerationFinished finished;

        void add(GenerateResponse event) {
            if (event.hasToken()) {
                text.append(event.getToken().getText());
                tokens.add(event.getToken());
            } else if (event.hasFinished()) {
                finished = event.getFinished();
            }
        }
    }

    /** Server-sent events: a chunk per token that has text (or a log-probability to report), the closing chunk, [DONE]. */
    private Multi<String> events(Multi<GenerateResponse> events, Call call) {
        OpenAiFormat format = call.format();
        boolean logprobs = call.request().getLogprobs();
        boolean[] started = {false};
        Function<GenerateResponse, List<String>> toEvents = event -> {
            List<String> out = new ArrayList<>();
            GenerationFinished finished = event.hasFinished() ? finishedOk(event.getFinished()) : null;
            if (!started[0]) {
                format.opening().forEach(chunk -> out.add(data(chunk)));
                started[0] = true;
            }
            if (event.hasToken() && (logprobs || !event.getToken().getText().isEmpty())) {
                out.add(data(format.tokenChunk(event.getToken())));
            } else if (finished != null) {
                out.add(data(format.closingChunk(finished.getText(), FinishReasons.openAi(finished.getReason()),
                        Usage.of(finished.getUsage()))));
                out.add(DONE);
            }
            return out;
        };
        return events.onItem().transformToIterable(toEvents)
                .onFailure().recoverWithMulti(failure -> {
                    if (!started[0]) {
                        return Multi.createFrom().failure(failure); // nothing sent yet: an HTTP error status
                    }
                    GatewayException e = GatewayException.of(failure, config.retryAfter());
                    observer.failed("rest", e.code());
                    return Multi.createFrom().items(data(ErrorBody.of(e)), DONE);
                });
    }

    /** The final event of a generation that did not fail; the router's error otherwise. */
    private static GenerationFinished finishedOk(GenerationFinished finished) {
        if (finished == null) {
            throw new GatewayException(Status.Code.INTERNAL, "the router ended the generation without a result", null,
                    null, null);
        }
        if (FinishReasons.openAi(finished.getReason()) == null) {
            throw new GatewayException(Status.Code.INTERNAL, "the generation failed: " + finished.getMessage(), null, null,
                    null);
        }
        return finished;
    }

    private String data(Object chunk) {
        return "data: " + write(chunk) + "\n\n";
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void requireBody(Object body) {
        if (body == null) {
            throw GatewayException.invalid(null, "the request body must be a JSON object");
        }
    }

    private static long nowSeconds() {
        return System.currentTimeMillis() / 1000;
    }
}
