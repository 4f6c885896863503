package dev.binmos.layerworker;

import com.google.protobuf.ByteString;
import dev.binmos.engine.backend.Chunk;
import dev.binmos.proto.v1.ForwardRequest;
import dev.binmos.proto.v1.ForwardResponse;
import dev.binmos.proto.v1.HiddenEncoding;
import dev.binmos.proto.v1.StepChunk;
import io.grpc.Status;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Runs steps: every chunk of a step goes through this stage's layers in ONE batched
 * {@code forwardLayers} call. Steps run one at a time on a single engine thread (the forward pass
 * parallelises inside), so sessions are never touched concurrently. The answers of recent steps are
 * kept by step id: a retried step gets the first answer and is not applied twice.
 */
@Singleton
public class StageEngine {
    private final StageModel model;
    private final StageSessions sessions;
    private final WorkerMetrics metrics;
    private final ExecutorService engine = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("stage-engine").daemon().factory());
    /** Answers of recent steps by step id, eldest first; guarded by itself. */
    private final LinkedHashMap<Long, CompletableFuture<ForwardResponse>> recent = new LinkedHashMap<>();
    private final int rememberedSteps;
    private final long rememberedBytes;
    /** Bytes of the answers in {@link #recent}; guarded by recent. */
    private long recentBytes;

    StageEngine(StageModel model, StageSessions sessions, WorkerMetrics metrics, WorkerConfig config) {
        this.model = model;
        this.sessions = sessions;
        this.metrics = metrics;
        this.rememberedSteps = config.rememberedSteps();
        this.rememberedBytes = config.rememberedStepBytes();
    }

    public CompletableFuture<ForwardResponse> forward(ForwardRequest request) {
        long stepId = request.getStepId();
        CompletableFuture<ForwardResponse> result;
        synchronized (recent) {
            CompletableFuture<ForwardResponse> seen = recent.get(stepId);
            if (seen != null) {
                metrics.repeatedStep();
                return seen;
            }
            result = new CompletableFuture<>();
            recent.put(stepId, result);
        }
        engine.execute(() -> {
            try {
                ForwardResponse response = run(request);
                remember(response);
                result.complete(response);
            } catch (RuntimeException | Error e) {
                // nothing was applied (requests are checked first), so a retry may run it
                synchronized (recent) {
                    recent.remove(stepId, result);
                }
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    /**
     * Counts an answer and forgets the eldest ones beyond the configured number of steps or bytes (the
     * last stage's answers hold logits: 64 sessions of a 128K vocabulary are 32 MiB a step). A retry
     * repeats the latest step of its pipeline, so only the newest answers matter.
     */
    private void remember(ForwardResponse response) {
        synchronized (recent) {
            recentBytes += response.getSerializedSize();
            var eldest = recent.entrySet().iterator();
            while (eldest.hasNext() && (recent.size() > rememberedSteps || recentBytes > rememberedBytes) && recent.size() > 1) {
                CompletableFuture<ForwardResponse> answer = eldest.next().getValue();
                if (!answer.isDone()) {
                    break;
                }
                recentBytes -= answer.isCompletedExceptionally() ? 0 : answer.join().getSerializedSize();
                eldest.remove();
            }
        }
    }

    private ForwardResponse run(ForwardRequest request) {
        long start = System.nanoTime();
        List<StepChunk> chunks = request.getChunksList();
        if (chunks.isEmpty()) {
            throw Status.INVALID_ARGUMENT.withDescription("step " + request.getStepId() + " has no chunks").asRuntimeException();
        }
        List<Chunk> batch = new ArrayList<>(chunks.size());
        int tokens = 0;
        Set<String> seen = new HashSet<>();
        for (StepChunk c : chunks) {
            batch.add(new Chunk(checked(c, seen).session(), c.getStartPosition(), c.getTokens()));
            tokens += c.getTokens();
        }
        int dim = model.config().dim();
        HiddenEncoding encoding = request.getEncoding() == HiddenEncoding.HIDDEN_ENCODING_F16
                ? HiddenEncoding.HIDDEN_ENCODING_F16 : HiddenEncoding.HIDDEN_ENCODING_F32;
        float[] hidden;
        if (model.first()) {
            int[] ids = new int[tokens];
            int at = 0;
            for (StepChunk c : chunks) {
                for (int id : c.getTokenIdsList()) {
                    ids[at++] = id;
                }
            }
            hidden = new float[tokens * dim];
            model.backend().embed(ids, hidden);
        } else {
            hidden = HiddenCodec.decode(request.getHidden(), tokens * dim, encoding);
        }
        model.backend().forwardLayers(batch, hidden, model.from(), model.to());
        ForwardResponse.Builder response = ForwardResponse.newBuilder().setStepId(request.getStepId());
        if (model.last()) {
            response.setLogits(logits(chunks, hidden));
        } else {
            response.setEncoding(encoding).setHidden(HiddenCodec.encode(hidden, tokens * dim, encoding));
        }
        metrics.step(chunks.size(), tokens, System.nanoTime() - start);
        return response.build();
    }

    /** The stage session of a chunk, after checking the chunk can run without a gap or overflow. */
    private StageSessions.StageSession checked(StepChunk c, Set<String> seen) {
        String id = c.getSessionId();
        StageSessions.StageSession s = sessions.get(id);
        if (s == null) {
            throw Status.NOT_FOUND.withDescription("session " + id + " is not open on this stage").asRuntimeException();
        }
        if (!seen.add(id)) {
            throw Status.INVALID_ARGUMENT.withDescription("session " + id + " appears twice in one step").asRuntimeException();
        }
        int held = s.session().length();
        if (c.getTokens() < 1 || c.getStartPosition() < 0 || c.getStartPosition() > held) {
            throw Status.FAILED_PRECONDITION.withDescription("session " + id + " holds " + held + " positions; cannot run "
                    + c.getTokens() + " tokens from position " + c.getStartPosition()).asRuntimeException();
        }
        try {
            s.session().cache().checkBegin(c.getStartPosition());
        } catch (IllegalArgumentException e) {
            throw Status.FAILED_PRECONDITION.withDescription("session " + id + ": " + e.getMessage()).asRuntimeException();
        }
        if (c.getTokens() > s.reservedPositions() - c.getStartPosition()) {
            throw Status.OUT_OF_RANGE.withDescription("session " + id + " reserved " + s.reservedPositions() + " positions; "
                    + c.getStartPosition() + " + " + c.getTokens() + " do not fit (OpenSession again to grow it)").asRuntimeException();
        }
        if (model.first()) {
            if (c.getTokenIdsCount() != c.getTokens()) {
                throw Status.INVALID_ARGUMENT.withDescription("session " + id + ": " + c.getTokens() + " tokens but "
                        + c.getTokenIdsCount() + " token ids").asRuntimeException();
            }
            int vocab = model.config().vocabSize();
            for (int token : c.getTokenIdsList()) {
                if (token < 0 || token >= vocab) {
                    throw Status.INVALID_ARGUMENT.withDescription("session " + id + ": token id " + token
                            + " is outside the vocabulary [0, " + vocab + ")").asRuntimeException();
                }
            }
        }
        return s;
    }

    /** F32 logits of the last token of every chunk that wants them, in chunk order. */
    private ByteString logits(List<StepChunk> chunks, float[] hidden) {
        int dim = model.config().dim();
        int wanted = (int) chunks.stream().filter(StepChunk::getWantLogits).count();
        if (wanted == 0) {
            return ByteString.EMPTY;
        }
        float[] rows = new float[wanted * dim];
        int row = 0;
        int end = 0;
        for (StepChunk c : chunks) {
            end += c.getTokens();
            if (c.getWantLogits()) {
                System.arraycopy(hidden, (end - 1) * dim, rows, row++ * dim, dim);
            }
        }
        float[] logits = model.backend().logits(rows, wanted, wanted);
        return HiddenCodec.encode(logits, logits.length, HiddenEncoding.HIDDEN_ENCODING_F32);
    }

    @PreDestroy
    void stop() {
        engine.shutdownNow();
    }
}
