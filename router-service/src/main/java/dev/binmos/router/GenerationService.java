package dev.binmos.router;

import dev.binmos.proto.v1.GenerateRequest;
import dev.binmos.proto.v1.GenerateResponse;
import dev.binmos.proto.v1.Generation;
import dev.binmos.proto.v1.ListModelsRequest;
import dev.binmos.proto.v1.ListModelsResponse;
import dev.binmos.proto.v1.TokenizeRequest;
import dev.binmos.proto.v1.TokenizeResponse;
import dev.binmos.router.scheduler.GenerationRequest;
import dev.binmos.router.scheduler.Scheduler;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.context.Context;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.BackPressureStrategy;

/** The public {@code binmos.v1.Generation} service (the gateway forwards to it): a thin front over the scheduler. */
@GrpcService
public class GenerationService implements Generation {
    private final RequestValidator validator;
    private final Scheduler scheduler;
    private final ServedModels models;

    GenerationService(RequestValidator validator, Scheduler scheduler, ServedModels models) {
        this.validator = validator;
        this.scheduler = scheduler;
        this.models = models;
    }

    @Override
    public Multi<GenerateResponse> generate(GenerateRequest request) {
        // the server span of this call: stage calls made for the request continue its trace
        Context trace = Context.current();
        return Multi.createFrom().emitter(emitter -> {
            GenerationRequest prepared;
            try {
                prepared = validator.prepare(request, emitter, trace);
                emitter.onTermination(() -> {
                    if (emitter.isCancelled()) {
                        scheduler.cancel(prepared);
                    }
                });
                scheduler.submit(prepared);
            } catch (StatusRuntimeException e) {
                emitter.fail(e);
            }
        }, BackPressureStrategy.BUFFER);
    }

    @Override
    public Uni<TokenizeResponse> tokenize(TokenizeRequest request) {
        return Uni.createFrom().item(() -> {
            ServedModel model = models.find(request.getModel());
            TokenizeResponse.Builder response = TokenizeResponse.newBuilder();
            for (int id : model.tokenizer().encode(request.getText(), request.getAddBos(), false)) {
                response.addIds(id).addPieces(model.tokenizer().piece(id));
            }
            return response.build();
        });
    }

    @Override
    public Uni<ListModelsResponse> listModels(ListModelsRequest request) {
        return Uni.createFrom().item(() -> ListModelsResponse.newBuilder()
                .addAllModels(models.all().stream().map(ServedModel::info).toList())
                .build());
    }
}
