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
    private final long controlTimeoutMs;

    StageClients(OpenTelemetry openTelemetry, RouterConfig config) {
        this.tracing = new TracePropagation(openTelemetry);
        this.timeoutMs = config.stageTimeout().toMillis();
        this.controlTimeoutMs = config.controlTimeout().toMillis();
    }

    /** A stub with the stage deadline set, for one step. */
    public StageGrpc.StageBlockingStub stage(String address) {
        return stub(address, timeoutMs);
    }

    /** A stub with the control deadline set, for one session call (open, resize, close). */
    public StageGrpc.StageBlockingStub control(String address) {
        return stub(address, controlTimeoutMs);
    }

    private StageGrpc.StageBlockingStub stub(String address, long deadlineMs) {
        ManagedChannel channel = channels.computeIfAbsent(address, a -> NettyChannelBuilder.forTarget(a)
                .usePlaintext()
                .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                .build());
        return StageGrpc.newBlockingStub(ClientInterceptors.intercept(channel, tracing))
                .withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
    }

    @PreDestroy
    void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
