package dev.binmos.router.scheduler;

import dev.binmos.proto.v1.StageGrpc;
import dev.binmos.router.RouterConfig;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.opentelemetry.api.OpenTelemetry;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * gRPC stubs for the workers' Stage services, one channel per address (workers are known only once
 * they register, so these are plain grpc-java channels rather than configured Quarkus clients). Every
 * call carries the current trace context.
 */
@Singleton
public class StageClients {
    private static final int MAX_MESSAGE_BYTES = 256 << 20;

    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final TracePropagation tracing;
    private final long timeoutMs;

    StageClients(OpenTelemetry openTelemetry, RouterConfig config) {
        this.tracing = new TracePropagation(openTelemetry);
        this.timeoutMs = config.stageTimeout().toMillis();
    }

    /** A stub with the stage deadline set, for one call. */
    public StageGrpc.StageBlockingStub stage(String address) {
        ManagedChannel channel = channels.computeIfAbsent(address, a -> NettyChannelBuilder.forTarget(a)
                .usePlaintext()
                .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                .build());
        return StageGrpc.newBlockingStub(ClientInterceptors.intercept(channel, tracing))
                .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS);
    }

    @PreDestroy
    void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
