package dev.binmos.layerworker;

import dev.binmos.proto.v1.CloseSessionRequest;
import dev.binmos.proto.v1.CloseSessionResponse;
import dev.binmos.proto.v1.DrainRequest;
import dev.binmos.proto.v1.DrainResponse;
import dev.binmos.proto.v1.ForwardRequest;
import dev.binmos.proto.v1.ForwardResponse;
import dev.binmos.proto.v1.OpenSessionRequest;
import dev.binmos.proto.v1.OpenSessionResponse;
import dev.binmos.proto.v1.Stage;
import dev.binmos.proto.v1.StageStatus;
import dev.binmos.proto.v1.StatusRequest;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Uni;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/** The {@code binmos.v1.Stage} gRPC service: a thin front over the sessions, the engine and the drain. */
@GrpcService
public class StageService implements Stage {
    private static final Logger LOG = Logger.getLogger(StageService.class);

    private final StageModel model;
    private final StageSessions sessions;
    private final StageEngine engine;
    private final WorkerLifecycle lifecycle;

    StageService(StageModel model, StageSessions sessions, StageEngine engine, WorkerLifecycle lifecycle) {
        this.model = model;
        this.sessions = sessions;
        this.engine = engine;
        this.lifecycle = lifecycle;
    }

    @Override
    public Uni<OpenSessionResponse> openSession(OpenSessionRequest request) {
        return Uni.createFrom().item(() -> {
            MDC.put("sessionId", request.getSessionId());
            try {
                OpenSessionResponse response = sessions.open(request.getSessionId(), request.getMaxLength());
                LOG.infof("session %s reserved %d positions (%d bytes of KV cache)", request.getSessionId(),
                        request.getMaxLength(), response.getReservedKvBytes());
                return response;
            } finally {
                MDC.remove("sessionId");
            }
        });
    }

    @Override
    public Uni<ForwardResponse> forward(ForwardRequest request) {
        return Uni.createFrom().completionStage(() -> engine.forward(request));
    }

    @Override
    public Uni<CloseSessionResponse> closeSession(CloseSessionRequest request) {
        return Uni.createFrom().item(() -> {
            boolean existed = sessions.close(request.getSessionId());
            if (existed) {
                MDC.put("sessionId", request.getSessionId());
                LOG.infof("session %s closed", request.getSessionId());
                MDC.remove("sessionId");
            }
            return CloseSessionResponse.newBuilder().setExisted(existed).build();
        });
    }

    @Override
    public Uni<DrainResponse> drain(DrainRequest request) {
        return Uni.createFrom().completionStage(lifecycle::drain)
                .map(done -> DrainResponse.newBuilder().setSessionsRemaining(sessions.count()).build());
    }

    @Override
    public Uni<StageStatus> status(StatusRequest request) {
        return Uni.createFrom().item(() -> StageStatus.newBuilder()
                .setSessions(sessions.count())
                .setKvBytesUsed(sessions.usedBytes())
                .setKvBytesCapacity(sessions.capacityBytes())
                .setDraining(sessions.draining())
                .setLayerFrom(model.from())
                .setLayerTo(model.to())
                .build());
    }
}
