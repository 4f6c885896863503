package dev.binmos.router.registry;

import dev.binmos.proto.v1.DeregisterRequest;
import dev.binmos.proto.v1.DeregisterResponse;
import dev.binmos.proto.v1.HeartbeatRequest;
import dev.binmos.proto.v1.HeartbeatResponse;
import dev.binmos.proto.v1.RegisterRequest;
import dev.binmos.proto.v1.RegisterResponse;
import dev.binmos.proto.v1.Registry;
import dev.binmos.router.RouterConfig;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Uni;

/** The {@code binmos.v1.Registry} gRPC service: a thin front over {@link WorkerRegistry}. */
@GrpcService
public class RegistryService implements Registry {
    private final WorkerRegistry registry;
    private final long heartbeatMs;

    RegistryService(WorkerRegistry registry, RouterConfig config) {
        this.registry = registry;
        this.heartbeatMs = config.heartbeatInterval().toMillis();
    }

    @Override
    public Uni<RegisterResponse> register(RegisterRequest request) {
        return Uni.createFrom().item(() -> {
            registry.register(request.getWorker());
            return RegisterResponse.newBuilder().setHeartbeatIntervalMs(heartbeatMs).build();
        });
    }

    @Override
    public Uni<HeartbeatResponse> heartbeat(HeartbeatRequest request) {
        return Uni.createFrom().item(() -> HeartbeatResponse.newBuilder().setKnown(registry.heartbeat(request)).build());
    }

    @Override
    public Uni<DeregisterResponse> deregister(DeregisterRequest request) {
        return Uni.createFrom().item(() -> {
            registry.deregister(request.getWorkerId());
            return DeregisterResponse.getDefaultInstance();
        });
    }
}
