package dev.binmos.gateway.auth;

import dev.binmos.gateway.GenerationObserver;
import dev.binmos.gateway.openai.ErrorBody;
import io.grpc.Status;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/** API keys for the REST API ({@code /v1/*}): {@code Authorization: Bearer KEY}; 401 without a valid one. */
public class ApiKeyFilter {

    private final ApiKeys keys;
    private final GenerationObserver metrics;

    ApiKeyFilter(ApiKeys keys, GenerationObserver metrics) {
        this.keys = keys;
        this.metrics = metrics;
    }

    @ServerRequestFilter(priority = Priorities.AUTHENTICATION)
    public Response check(HttpHeaders headers) {
        if (keys.accepts(headers.getHeaderString(HttpHeaders.AUTHORIZATION))) {
            return null;
        }
        metrics.failed("rest", Status.Code.UNAUTHENTICATED);
        return Response.status(Response.Status.UNAUTHORIZED)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(ErrorBody.of("a valid API key is required: header 'Authorization: Bearer KEY'",
                        "authentication_error", null, "invalid_api_key"))
                .build();
    }
}
