package dev.binmos.gateway.rest;

import dev.binmos.gateway.RequestIds;
import dev.binmos.gateway.openai.ChatCompletionRequest;
import dev.binmos.gateway.openai.CompletionRequest;
import dev.binmos.gateway.openai.OpenAiService;
import dev.binmos.gateway.openai.Responses;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.jboss.resteasy.reactive.RestHeader;
import org.jboss.resteasy.reactive.RestMulti;

/**
 * The OpenAI-compatible REST API. The completion endpoints answer JSON or, with {@code stream: true}, server-sent
 * events: one method each, since the body decides (hence RestMulti, which sets the content type per response).
 */
@Path("/v1")
public class CompletionsResource {

    private final OpenAiService openAi;

    CompletionsResource(OpenAiService openAi) {
        this.openAi = openAi;
    }

    @POST
    @Path("/completions")
    @Consumes(MediaType.APPLICATION_JSON)
    public RestMulti<String> completions(CompletionRequest body, @RestHeader("X-Request-Id") String requestId) {
        return openAi.completions(body, RequestIds.of(requestId));
    }

    @POST
    @Path("/chat/completions")
    @Consumes(MediaType.APPLICATION_JSON)
    public RestMulti<String> chatCompletions(ChatCompletionRequest body, @RestHeader("X-Request-Id") String requestId) {
        return openAi.chatCompletions(body, RequestIds.of(requestId));
    }

    @GET
    @Path("/models")
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<Responses.ModelList> models() {
        return openAi.models();
    }
}
