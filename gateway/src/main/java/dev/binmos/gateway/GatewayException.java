package dev.binmos.gateway;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;

/**
 * A request failure, classified by its gRPC status code: the gRPC API returns it as is, the REST API maps it to an
 * HTTP status and an OpenAI-style error body.
 *
 * @param param      the request field at fault (OpenAI name on REST), or null
 * @param errorCode  OpenAI-style error code (e.g. {@code model_not_found}), or null
 * @param retryAfter when to retry (RESOURCE_EXHAUSTED, UNAVAILABLE), or null
 */
public final class GatewayException extends RuntimeException {

    /** gRPC trailer carrying the seconds to wait before retrying, as HTTP's Retry-After does. */
    public static final Metadata.Key<String> RETRY_AFTER = Metadata.Key.of("retry-after", Metadata.ASCII_STRING_MARSHALLER);

    private final Status.Code code;
    private final String param;
    private final String errorCode;
    private final Duration retryAfter;

    public GatewayException(Status.Code code, String message, String param, String errorCode, Duration retryAfter) {
        super(message);
        this.code = code;
        this.param = param;
        this.errorCode = errorCode;
        this.retryAfter = retryAfter;
    }

    public static GatewayException invalid(String param, String message) {
        return new GatewayException(Status.Code.INVALID_ARGUMENT, message, param, null, null);
    }

    /**
     * The gateway's view of any failure: router statuses keep their code and description (and a Retry-After from
     * the router's {@code retry-after} trailer, else {@code defaultRetryAfter}); anything else is INTERNAL.
     */
    public static GatewayException of(Throwable failure, Duration defaultRetryAfter) {
        if (failure instanceof GatewayException e) {
            return e;
        }
        if (failure instanceof StatusRuntimeException e) {
            Status status = e.getStatus();
            String message = status.getDescription() != null ? status.getDescription() : describe(status.getCode());
            if (status.getCode() == Status.Code.UNAVAILABLE && status.getCause() != null) {
                message = "the router cannot be reached (" + message + ")"; // a transport failure, not the router's answer
            }
            Duration retryAfter = null;
            if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED || status.getCode() == Status.Code.UNAVAILABLE) {
                String hint = e.getTrailers() == null ? null : e.getTrailers().get(RETRY_AFTER);
                retryAfter = parseSeconds(hint, defaultRetryAfter);
            }
            return new GatewayException(status.getCode(), message, null, null, retryAfter);
        }
        return new GatewayException(Status.Code.INTERNAL, "internal error: " + failure, null, null, null);
    }

    public Status.Code code() {
        return code;
    }

    public String param() {
        return param;
    }

    public String errorCode() {
        return errorCode;
    }

    public Duration retryAfter() {
        return retryAfter;
    }

    /** This failure for a gRPC client: same code and message, Retry-After as the {@code retry-after} trailer. */
    public StatusRuntimeException toStatus() {
        Metadata trailers = new Metadata();
        if (retryAfter != null) {
            trailers.put(RETRY_AFTER, Long.toString(retryAfterSeconds()));
        }
        return code.toStatus().withDescription(getMessage()).asRuntimeException(trailers);
    }

    /** Whole seconds, at least 1, as HTTP's Retry-After wants. */
    public long retryAfterSeconds() {
        return Math.max(1, (retryAfter.toMillis() + 999) / 1000);
    }

    private static String describe(Status.Code code) {
        return switch (code) {
            case UNAVAILABLE -> "the router is unavailable";
            case DEADLINE_EXCEEDED -> "the request did not complete before its deadline";
            case RESOURCE_EXHAUSTED -> "the server is full, retry later";
            default -> "the router failed with " + code;
        };
    }

    private static Duration parseSeconds(String seconds, Duration fallback) {
        try {
            return seconds == null ? fallback : Duration.ofSeconds(Long.parseLong(seconds.trim()));
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
