package dev.binmos.gateway.auth;

import dev.binmos.gateway.GenerationObserver;
import dev.binmos.proto.v1.GenerationGrpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * API keys for the public gRPC service ({@code binmos.v1.Generation}): metadata {@code authorization: Bearer KEY}.
 * Health, reflection and Node stay open, as {@code /q/health} does on HTTP.
 */
@GlobalInterceptor
@ApplicationScoped
public class ApiKeyInterceptor implements ServerInterceptor {

    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final ApiKeys keys;
    private final GenerationObserver metrics;

    ApiKeyInterceptor(ApiKeys keys, GenerationObserver metrics) {
        this.keys = keys;
        this.metrics = metrics;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        boolean guarded = GenerationGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName());
        if (guarded && !keys.accepts(headers.get(AUTHORIZATION))) {
            metrics.failed("grpc", Status.Code.UNAUTHENTICATED);
            call.close(Status.UNAUTHENTICATED.withDescription("a valid API key is required: metadata 'authorization: Bearer KEY'"),
                    new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return next.startCall(call, headers);
    }
}
