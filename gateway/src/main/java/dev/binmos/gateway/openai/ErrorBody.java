package dev.binmos.gateway.openai;

import dev.binmos.gateway.GatewayException;

/** OpenAI's error body: {@code {"error": {"message", "type", "param", "code"}}}. */
public record ErrorBody(Error error) {

    public record Error(String message, String type, String param, String code) {
    }

    public static ErrorBody of(String message, String type, String param, String code) {
        return new ErrorBody(new Error(message, type, param, code));
    }

    public static ErrorBody of(GatewayException e) {
        String type = switch (e.code()) {
            case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, NOT_FOUND -> "invalid_request_error";
            case UNAUTHENTICATED -> "authentication_error";
            case PERMISSION_DENIED -> "permission_error";
            case RESOURCE_EXHAUSTED -> "rate_limit_error";
            case UNAVAILABLE -> "service_unavailable_error";
            case DEADLINE_EXCEEDED -> "timeout_error";
            default -> "server_error";
        };
        return of(e.getMessage(), type, e.param(), e.errorCode());
    }

    /** The HTTP status of a failure. */
    public static int httpStatus(GatewayException e) {
        return switch (e.code()) {
            case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
            case UNAUTHENTICATED -> 401;
            case PERMISSION_DENIED -> 403;
            case NOT_FOUND -> 404;
            case RESOURCE_EXHAUSTED -> 429;
            case UNAVAILABLE -> 503;
            case DEADLINE_EXCEEDED -> 504;
            default -> 500;
        };
    }
}
