package dev.binmos.router.scheduler;

import com.google.protobuf.ByteString;
import dev.binmos.proto.v1.ForwardRequest;
import dev.binmos.proto.v1.ForwardResponse;
import dev.binmos.proto.v1.HiddenEncoding;
import dev.binmos.proto.v1.StepChunk;
import dev.binmos.router.RouterConfig;
import dev.binmos.router.RouterMetrics;
import dev.binmos.router.registry.Pipeline;
import dev.binmos.router.registry.Worker;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * Continuous batching on one pipeline. Each step takes one token of every decoding session and a
 * prefill chunk of sessions still reading their prompt (decode first, within the step's token
 * budget), sends them through the stages as ONE Forward per stage, samples every session that got
 * logits, and streams the tokens. Requests join and leave between steps; a long prompt is prefilled
 * over several steps, interleaved with the others' decoding.
 */
final class BatchLoop implements Runnable {
    private static final Logger LOG = Logger.getLogger(BatchLoop.class);
    private static final int ATTEMPTS = 2;

    private final Pipeline pipeline;
    private final Scheduler scheduler;
    private final StageClients clients;
    private final RouterMetrics metrics;
    private final Tracer tracer;
    private final LongSupplier stepIds;
    private final int prefillChunk;
    private final int maxStepTokens;
    private final HiddenEncoding encoding;
    private final AtomicInteger size = new AtomicInteger();
    /** Guarded by this. */
    private final List<GenerationRequest> joining = new ArrayList<>();
    /** Loop thread only. */
    private final List<GenerationRequest> active = new ArrayList<>();
    /** Guarded by this: why the loop must stop, then why it stopped. */
    private String abort;
    private boolean ended;

    /** One scheduled chunk: {@code tokens} tokens of the request's session from its fed position. */
    private record Item(GenerationRequest request, int tokens, boolean wantLogits) {
    }

    BatchLoop(Pipeline pipeline, Scheduler scheduler, StageClients clients, RouterMetrics metrics, Tracer tracer,
              LongSupplier stepIds, RouterConfig config) {
        this.pipeline = pipeline;
        this.scheduler = scheduler;
        this.clients = clients;
        this.metrics = metrics;
        this.tracer = tracer;
        this.stepIds = stepIds;
        this.prefillChunk = config.prefillChunk();
        this.maxStepTokens = config.maxStepTokens();
        this.encoding = config.hiddenEncoding() == RouterConfig.HiddenFormat.F16
                ? HiddenEncoding.HIDDEN_ENCODING_F16 : HiddenEncoding.HIDDEN_ENCODING_F32;
    }

    Pipeline pipeline() {
        return pipeline;
    }

    /** Requests placed here and not finished. */
    int size() {
        return size.get();
    }

    /** Adds a request at the next step; false when the loop has stopped. */
    synchronized boolean join(GenerationRequest request) {
        if (ended) {
            return false;
        }
        joining.add(request);
        size.incrementAndGet();
        notifyAll();
        return true;
    }

    /** Fails every request and stops (a worker of the pipeline is gone). */
    synchronized void abort(String why) {
        if (abort == null) {
            abort = why;
        }
        notifyAll();
    }

    @Override
    public void run() {
        while (true) {
            String stop;
            synchronized (this) {
                while (joining.isEmpty() && active.isEmpty() && abort == null && !pipeline.gone()) {
                    try {
                        wait(1_000);
                    } catch (InterruptedException e) {
                        abort = "router stopping";
                    }
                }
                active.addAll(joining);
                joining.clear();
                stop = abort != null ? abort : pipeline.gone() ? "a worker of pipeline " + pipeline + " left" : null;
                ended = stop != null;
            }
            if (stop != null) {
                active.forEach(r -> scheduler.failed(r, stop));
                active.clear();
                scheduler.loopEnded(this);
                return;
            }
            try {
                dropCancelled();
                if (!active.isEmpty()) {
                    step();
                }
            } catch (RuntimeException | Error e) {
                // a bug must not strand the batch: its requests fail and the loop ends like an aborted one
                LOG.errorf(e, "batch loop of %s failed", pipeline);
                abort("internal error: " + e);
            }
        }
    }

    private void dropCancelled() {
        for (Iterator<GenerationRequest> it = active.iterator(); it.hasNext(); ) {
            GenerationRequest r = it.next();
            if (r.cancelled()) {
                it.remove();
                size.decrementAndGet();
                scheduler.cancelled(r);
            }
        }
    }

    private void step() {
        long start = System.nanoTime();
        List<Item> items = plan();
        List<StepChunk> firstStage = new ArrayList<>(items.size());
        List<StepChunk> otherStages = new ArrayList<>(items.size());
        int tokens = 0;
        for (Item item : items) {
            RouterSession s = item.request.session();
            StepChunk chunk = StepChunk.newBuilder()
                    .setSessionId(s.id())
                    .setStartPosition(s.fed())
                    .setTokens(item.tokens)
                    .setWantLogits(item.wantLogits)
                    .build();
            otherStages.add(chunk);
            StepChunk.Builder withIds = chunk.toBuilder();
            for (int p = s.fed(); p < s.fed() + item.tokens; p++) {
                withIds.addTokenIds(s.token(p));
            }
            firstStage.add(withIds.build());
            tokens += item.tokens;
        }
        long stepId = stepIds.getAsLong();
        SpanBuilder spanBuilder = tracer.spanBuilder("binmos.step").setNoParent()
                .setAttribute("binmos.step.id", stepId)
                .setAttribute("binmos.step.sessions", items.size())
                .setAttribute("binmos.step.tokens", tokens);
        // a step serves many requests: link their traces rather than pick one parent
        items.forEach(item -> spanBuilder.addLink(Span.fromContext(item.request.trace()).getSpanContext()));
        Span span = spanBuilder.startSpan();
        ForwardResponse last;
        try (Scope ignored = span.makeCurrent()) {
            last = forward(stepId, firstStage, otherStages);
        } catch (StageFailure failure) {
            span.recordException(failure);
            stepFailed(items, failure);
            return;
        } finally {
            span.end();
        }
        apply(items, last);
        metrics.step(items.size(), tokens, System.nanoTime() - start);
    }

    /** Decode tokens first, then prefill chunks in arrival order, within the step's token budget. */
    private List<Item> plan() {
        List<Item> items = new ArrayList<>();
        int budget = maxStepTokens;
        for (GenerationRequest r : active) {
            if (r.pending() == 1 && budget > 0) {
                items.add(new Item(r, 1, true));
                budget--;
            }
        }
        for (GenerationRequest r : active) {
            int pending = r.pending();
            if (pending > 1 && budget > 0) {
                int n = Math.min(Math.min(pending, prefillChunk), budget);
                items.add(new Item(r, n, n == pending));
                budget -= n;
            }
        }
        return items;
    }

    /** Runs the step through every stage, retrying it once with the same step id (stages dedupe it). */
    private ForwardResponse forward(long stepId, List<StepChunk> firstStage, List<StepChunk> otherStages) {
        for (int attempt = 1; ; attempt++) {
            try {
                ByteString hidden = ByteString.EMPTY;
                ForwardResponse response = null;
                for (int i = 0; i < pipeline.stages().size(); i++) {
                    Worker worker = pipeline.stages().get(i);
                    ForwardRequest request = ForwardRequest.newBuilder()
                            .setStepId(stepId)
                            .addAllChunks(i == 0 ? firstStage : otherStages)
                            .setEncoding(encoding)
                            .setHidden(hidden)
                            .build();
                    long sent = System.nanoTime();
                    try {
                        response = clients.stage(worker.address()).forward(request);
                        metrics.stageCall(i, System.nanoTime() - sent);
                    } catch (StatusRuntimeException e) {
                        throw new StageFailure(worker, e.getStatus());
                    }
                    hidden = response.getHidden();
                }
                return response;
            } catch (StageFailure failure) {
                if (attempt == ATTEMPTS || !retryable(failure.status())) {
                    throw failure;
                }
                LOG.warnf("step %d: %s; retrying", stepId, failure.getMessage());
            }
        }
    }

    private static boolean retryable(Status status) {
        return switch (status.getCode()) {
            case UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED -> true;
            default -> false;
        };
    }

    /** Advances every session and samples those that got logits; finished requests leave the batch. */
    private void apply(List<Item> items, ForwardResponse response) {
        int vocab = items.getFirst().request.model().config().vocabSize();
        int wanted = (int) items.stream().filter(Item::wantLogits).count();
        FloatBuffer logits = response.getLogits().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        if (logits.remaining() != wanted * vocab) {
            stepFailed(items, new StageFailure(pipeline.stages().getLast(), Status.INTERNAL.withDescription(
                    "returned " + logits.remaining() + " logits for " + wanted + " chunks of vocabulary " + vocab)));
            return;
        }
        for (Item item : items) {
            GenerationRequest r = item.request;
            r.session().advance(item.tokens);
            if (!item.wantLogits) {
                continue;
            }
            float[] row = new float[vocab];
            logits.get(row);
            if (!r.next(row)) {
                active.remove(r);
                size.decrementAndGet();
                scheduler.finished(r);
            }
        }
    }

    /**
     * A stage that did not answer may have lost every session of the pipeline: all its requests fail.
     * Otherwise (the stage refused this step) only the requests of the step fail.
     */
    private void stepFailed(List<Item> items, StageFailure failure) {
        LOG.errorf("step failed: %s", failure.getMessage());
        if (failure.unreachable()) {
            failure.worker().suspect();
            abort(failure.getMessage());
            return;
        }
        for (Item item : items) {
            active.remove(item.request);
            size.decrementAndGet();
            scheduler.failed(item.request, failure.getMessage());
        }
    }
}
