package dev.binmos.gateway.rest;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.binmos.gateway.GatewayConfig;
import dev.binmos.gateway.GatewayException;
import dev.binmos.gateway.GenerationObserver;
import dev.binmos.gateway.openai.ErrorBody;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Collection;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every REST failure as an OpenAI error body ({@code {"error": {"message", "type", "param", "code"}}}). */
public class ErrorMappers {

    private static final Logger LOG = Logger.getLogger(ErrorMappers.class);

    private final GatewayConfig config;
    private final GenerationObserver observer;

    ErrorMappers(GatewayConfig config, GenerationObserver observer) {
        this.config = config;
        this.observer = observer;
    }

    /** Bad requests, unknown models, and whatever the router answered (429 and 503 with Retry-After). */
    @ServerExceptionMapper
    public Response gateway(GatewayException e) {
        return respond(e);
    }

    @ServerExceptionMapper
    public Response router(StatusRuntimeException e) {
        return respond(GatewayException.of(e, config.retryAfter()));
    }

    @ServerExceptionMapper
    public Response unknownField(UnrecognizedPropertyException e) {
        String known = e.getKnownPropertyIds() == null ? "" : "; the fields of this request are "
                + e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", "));
        return respond(GatewayException.invalid(path(e), "unknown field '" + path(e) + "'" + known));
    }

    @ServerExceptionMapper
    public Response wrongType(MismatchedInputException e) {
        String param = path(e);
        String expected = expected(e.getTargetType());
        return respond(GatewayException.invalid(param.isEmpty() ? null : param, expected == null
                ? "invalid value" + (param.isEmpty() ? "" : " for '" + param + "'") + ": " + e.getOriginalMessage()
                : (param.isEmpty() ? "the request body" : param) + " must be " + expected));
    }

    @ServerExceptionMapper
    public Response notJson(JsonParseException e) {
        return respond(GatewayException.invalid(null, "the request body is not valid JSON: " + e.getOriginalMessage()));
    }

    @ServerExceptionMapper
    public Response otherJson(JsonProcessingException e) {
        return respond(GatewayException.invalid(null, "the request body cannot be read: " + e.getOriginalMessage()));
    }

    /** JAX-RS' own (404, 405, 415...), kept with their status; a body Jackson could not read, as above. */
    @ServerExceptionMapper
    public Response jaxRs(WebApplicationException e) {
        switch (e.getCause()) {
            case UnrecognizedPropertyException cause -> {
                return unknownField(cause);
            }
            case MismatchedInputException cause -> {
                return wrongType(cause);
            }
            case JsonParseException cause -> {
                return notJson(cause);
            }
            case JsonProcessingException cause -> {
                return otherJson(cause);
            }
            case null, default -> {
            }
        }
        int status = e.getResponse().getStatus();
        String type = status >= 500 ? "server_error" : "invalid_request_error";
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(ErrorBody.of(e.getMessage(), type, null, null)).build();
    }

    @ServerExceptionMapper
    public Response unexpected(Exception e) {
        LOG.error("unexpected failure", e);
        return respond(GatewayException.of(e, config.retryAfter()));
    }

    private Response respond(GatewayException e) {
        observer.failed("rest", e.code());
        Response.ResponseBuilder response = Response.status(ErrorBody.httpStatus(e))
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(ErrorBody.of(e));
        if (e.retryAfter() != null) {
            response.header(HttpHeaders.RETRY_AFTER, e.retryAfterSeconds());
        }
        if (e.code() == Status.Code.UNAUTHENTICATED) {
            response.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        }
        return response.build();
    }

    /** The field at fault as clients write it: {@code messages[0].role}. */
    private static String path(JsonMappingException e) {
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                out.append(out.isEmpty() ? "" : ".").append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                out.append('[').append(ref.getIndex()).append(']');
            }
        }
        return out.toString();
    }

    private static String expected(Class<?> type) {
        if (type == null || JsonNode.class.isAssignableFrom(type)) {
            return null;
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "an integer";
        }
        if (type == Double.class || type == double.class || type == Float.class || type == float.class) {
            return "a number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "a boolean";
        }
        if (type == String.class) {
            return "a string";
        }
        if (Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "a list";
        }
        return type.isRecord() ? "an object" : null;
    }
}
