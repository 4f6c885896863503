package dev.binmos.router.scheduler;

import io.opentelemetry.api.trace.Span;
import org.jboss.logging.MDC;

/** Puts a request's ids (request, session, trace) in the logging MDC for the lines logged about it. */
final class RequestLog implements AutoCloseable {

    private RequestLog() {
    }

    static RequestLog of(GenerationRequest request) {
        MDC.put("requestId", request.id());
        MDC.put("traceId", Span.fromContext(request.trace()).getSpanContext().getTraceId());
        RouterSession session = request.session() != null ? request.session() : request.continued();
        if (session != null) {
            MDC.put("sessionId", session.id());
        }
        return new RequestLog();
    }

    @Override
    public void close() {
        MDC.remove("requestId");
        MDC.remove("traceId");
        MDC.remove("sessionId");
    }
}
