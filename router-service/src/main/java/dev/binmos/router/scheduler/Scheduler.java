package dev.binmos.router.scheduler;

import dev.binmos.proto.v1.CloseSessionRequest;
import dev.binmos.proto.v1.OpenSessionRequest;
import dev.binmos.proto.v1.OpenSessionResponse;
import dev.binmos.router.RouterConfig;
import dev.binmos.router.RouterMetrics;
import dev.binmos.router.ServedModel;
import dev.binmos.router.registry.Pipeline;
import dev.binmos.router.registry.PipelinePlanner;
import dev.binmos.router.registry.Worker;
import dev.binmos.router.registry.WorkerRegistry;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Admission and placement. Requests wait in a bounded FIFO queue until a pipeline has room for their
 * KV cache on every stage (and a batch slot); then their session is opened (or grown, for a
 * continuation) on every stage and handed to that pipeline's {@link BatchLoop}. A request that could
 * never fit, or finds the queue full, is refused with RESOURCE_EXHAUSTED, never left to run out of
 * memory. All stage control calls (open, grow, shrink, close) run on one control thread, in order.
 * Finished sessions idle, shrunk to what they hold, for a continuation by id; then they are closed,
 * or sooner, the longest idle first, when a waiting request needs their KV cache.
 */
@Singleton
public class Scheduler {
    private static final Logger LOG = Logger.getLogger(Scheduler.class);

    private final RouterConfig config;
    private final WorkerRegistry registry;
    private final StageClients clients;
    private final SessionStore sessions;
    private final RouterMetrics metrics;
    private final Tracer tracer;
    private final ExecutorService control = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("control").daemon().factory());
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("scheduler-ticker").daemon().factory());
    /** Guarded by itself, as is {@link #placing}. */
    private final Deque<GenerationRequest> waiting = new ArrayDeque<>();
    /** The head of the queue while the control thread tries to place it; it still counts as waiting. */
    private GenerationRequest placing;
    private final Map<String, BatchLoop> loops = new ConcurrentHashMap<>();
    private final AtomicBoolean admissionQueued = new AtomicBoolean();
    /** Control thread only. */
    private final List<Unclosed> unclosed = new ArrayList<>();
    private final AtomicLong stepIds = new AtomicLong(new SecureRandom().nextLong() >>> 1);

    Scheduler(RouterConfig config, WorkerRegistry registry, StageClients clients, SessionStore sessions, RouterMetrics metrics,
              Tracer tracer) {
        this.config = config;
        this.registry = registry;
        this.clients = clients;
        this.sessions = sessions;
        this.metrics = metrics;
        this.tracer = tracer;
        metrics.bindQueues(this::running, this::waitingCount);
        registry.onChange(this::wake);
        registry.onGone(this::workerGone);
        ticker.scheduleWithFixedDelay(this::wake, 250, 250, TimeUnit.MILLISECONDS);
        ticker.scheduleWithFixedDelay(() -> onControl(this::closeIdle), 1, 1, TimeUnit.SECONDS);
    }

    /**
     * Queues a validated request. Fails at once with UNAVAILABLE when no pipeline covers the model,
     * RESOURCE_EXHAUSTED when the request could never fit or the queue is full.
     */
    public void submit(GenerationRequest request) {
        try {
            checkPlaceable(request);
            synchronized (waiting) {
                if (waitingCount() >= config.maxWaiting()) {
                    throw Status.RESOURCE_EXHAUSTED.withDescription("the router is full: " + waiting.size()
                            + " requests are waiting for KV cache; retry later").asRuntimeException();
                }
                waiting.add(request);
            }
        } catch (StatusRuntimeException e) {
            if (request.continued() != null) {
                request.continued().idle();
            }
            throw e;
        }
        wake();
    }

    /** The client went away: a waiting request leaves the queue; a running one leaves its batch at the next step. */
    public void cancel(GenerationRequest request) {
        request.cancel();
        boolean wasWaiting;
        synchronized (waiting) {
            wasWaiting = waiting.remove(request);
        }
        if (wasWaiting) {
            dropCancelled(request);
        }
    }

    /** A cancelled request that was never placed: a session it meant to continue is closed. */
    private boolean dropCancelled(GenerationRequest request) {
        request.recordCancelled();
        if (request.continued() != null) {
            onControl(() -> close(request.continued()));
        }
        return true;
    }

    private void checkPlaceable(GenerationRequest request) {
        RouterSession continued = request.continued();
        if (continued != null) {
            int positions = request.positionsNeeded(continued.length());
            for (Worker w : continued.pipeline().stages()) {
                if (w.kvBytes(positions) > w.info().getKvCapacityBytes()) {
                    throw Status.RESOURCE_EXHAUSTED.withDescription("continuing session " + continued.id() + " needs " + positions
                            + " positions (" + w.kvBytes(positions) + " bytes of KV cache) on " + w + ", which has "
                            + w.info().getKvCapacityBytes()).asRuntimeException();
                }
            }
            return;
        }
        ServedModel model = request.model();
        List<Worker> eligible = eligible(model);
        if (PipelinePlanner.plan(model.config().layers(), eligible, 1, PipelinePlanner.Fit.EMPTY).isEmpty()) {
            throw Status.UNAVAILABLE.withDescription("no pipeline of workers covers layers [0, " + model.config().layers()
                    + ") of model " + model.id() + " (sha256 " + model.sha256() + "); registered: " + describeWorkers()).asRuntimeException();
        }
        int positions = request.positionsNeeded(0);
        if (PipelinePlanner.plan(model.config().layers(), eligible, positions, PipelinePlanner.Fit.EMPTY).isEmpty()) {
            throw Status.RESOURCE_EXHAUSTED.withDescription("the session needs " + positions
                    + " positions of KV cache on every stage; no pipeline of workers has that much (lower max_tokens)").asRuntimeException();
        }
    }

    private List<Worker> eligible(ServedModel model) {
        return PipelinePlanner.eligible(model.sha256(), model.config().layers(), registry.all());
    }

    private String describeWorkers() {
        List<Worker> all = registry.all();
        return all.isEmpty() ? "none" : all.stream()
                .map(w -> w + " model " + w.info().getModelId() + " sha256 " + w.info().getModelHash()
                        + (w.placeable() ? "" : w.draining() ? " (draining)" : " (not answering)"))
                .collect(Collectors.joining("; "));
    }

    /** Something changed (a session ended, a worker registered or beat): try the queue again. */
    void wake() {
        if (admissionQueued.compareAndSet(false, true)) {
            onControl(() -> {
                admissionQueued.set(false);
                admit();
            });
        }
    }

    /**
     * Places queued requests in order until the head must wait. The head leaves the queue while it is
     * being placed (so a cancel cannot race the placement) and goes back to the front if it must wait.
     * Control thread.
     */
    private void admit() {
        while (true) {
            GenerationRequest head;
            synchronized (waiting) {
                head = waiting.poll();
                placing = head;
            }
            if (head == null) {
                return;
            }
            boolean left = head.cancelled() ? dropCancelled(head)
                    : head.waitedNanos() > config.maxQueueTime().toNanos() ? timedOut(head)
                    : place(head);
            synchronized (waiting) {
                placing = null;
                if (!left) {
                    waiting.addFirst(head);
                    return;
                }
            }
        }
    }

    private boolean timedOut(GenerationRequest request) {
        if (request.continued() != null) {
            request.continued().idle();
        }
        request.reject(Status.RESOURCE_EXHAUSTED.withDescription("waited " + config.maxQueueTime()
                + " for KV cache or a batch slot; retry later").asRuntimeException());
        return true;
    }

    /** Returns true when the request left the queue (placed or refused), false when it must wait. */
    private boolean place(GenerationRequest request) {
        try (Scope ignored = request.trace().makeCurrent(); RequestLog log = RequestLog.of(request)) {
            return request.continued() == null ? placeNew(request) : placeContinuation(request);
        }
    }

    private boolean placeNew(GenerationRequest request) {
        ServedModel model = request.model();
        int positions = request.positionsNeeded(0);
        List<Worker> eligible = eligible(model);
        Optional<Pipeline> pipeline = PipelinePlanner.plan(model.config().layers(), eligible, positions, PipelinePlanner.Fit.NOW);
        if (pipeline.isEmpty()) {
            if (PipelinePlanner.plan(model.config().layers(), eligible, positions, PipelinePlanner.Fit.EMPTY).isEmpty()) {
                request.reject(Status.UNAVAILABLE.withDescription("no pipeline of workers can take the session any more; registered: "
                        + describeWorkers()).asRuntimeException());
                return true;
            }
            evictIdle(eligible);
            return false;
        }
        BatchLoop loop = loopFor(pipeline.get());
        if (loop.size() >= config.maxBatchSessions()) {
            return false;
        }
        RouterSession session = sessions.create(model, pipeline.get());
        Status refused = reserve(session, positions, true);
        if (refused != null) {
            sessions.remove(session);
            return waitOrReject(request, refused);
        }
        MDC.put("sessionId", session.id());
        LOG.infof("request %s placed on %s after %d ms: %d input tokens, %d positions reserved", request.id(), pipeline.get(),
                request.waitedNanos() / 1_000_000, request.inputTokens(), positions);
        start(request, session, loop);
        return true;
    }

    private boolean placeContinuation(GenerationRequest request) {
        RouterSession session = request.continued();
        if (session.pipeline().gone()) {
            close(session);
            request.reject(Status.NOT_FOUND.withDescription("session " + session.id() + " was lost: a worker of its pipeline left")
                    .asRuntimeException());
            return true;
        }
        BatchLoop loop = loopFor(session.pipeline());
        if (loop.size() >= config.maxBatchSessions()) {
            return false;
        }
        int positions = request.positionsNeeded(session.length());
        if (positions > session.reserved()) {
            if (session.pipeline().draining()) {
                session.idle();
                request.reject(Status.UNAVAILABLE.withDescription("session " + session.id()
                        + " cannot grow: a worker of its pipeline is draining; start a new session").asRuntimeException());
                return true;
            }
            List<Worker> stages = session.pipeline().stages();
            for (int i = 0; i < stages.size(); i++) {
                if (stages.get(i).kvBytes(positions) - session.reservedBytes(i) > stages.get(i).freeBytes()) {
                    evictIdle(stages);
                    return false;
                }
            }
            Status refused = reserve(session, positions, false);
            if (refused != null) {
                boolean left = waitOrReject(request, refused);
                if (left) {
                    session.idle();
                }
                return left;
            }
        }
        LOG.infof("request %s continues session %s after %d ms", request.id(), session.id(), request.waitedNanos() / 1_000_000);
        start(request, session, loop);
        return true;
    }

    private static boolean waitOrReject(GenerationRequest request, Status refused) {
        if (refused.getCode() == Status.Code.RESOURCE_EXHAUSTED || refused.getCode() == Status.Code.UNAVAILABLE) {
            return false;
        }
        // the request was valid (it passed validation): a stage's own refusal is the suite's fault, not the client's
        request.reject(Status.INTERNAL.withDescription("a stage refused the session: " + refused.getCode() + " "
                + refused.getDescription()).asRuntimeException());
        return true;
    }

    private void start(GenerationRequest request, RouterSession session, BatchLoop loop) {
        request.start(session);
        if (request.finished()) {
            // max_tokens 0: nothing to run; the input waits in the session for a continuation
            session.idle();
            request.complete();
        } else if (!loop.join(request)) {
            failed(request, "the pipeline " + loop.pipeline() + " stopped");
        }
    }

    /**
     * Reserves {@code positions} on every stage (OpenSession opens or resizes). On a refusal a new
     * session is closed again; returns the refusal, or null.
     */
    private Status reserve(RouterSession session, int positions, boolean isNew) {
        List<Worker> stages = session.pipeline().stages();
        for (int i = 0; i < stages.size(); i++) {
            Worker worker = stages.get(i);
            try {
                OpenSessionResponse response = clients.control(worker.address()).openSession(OpenSessionRequest.newBuilder()
                        .setSessionId(session.id()).setMaxLength(positions).build());
                worker.addReserved(response.getReservedKvBytes() - session.reservedBytes(i));
                session.reservedBytes(i, response.getReservedKvBytes());
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.UNAVAILABLE || e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
                    worker.suspect();
                }
                LOG.infof("stage %s refused %d positions for session %s: %s", worker, positions, session.id(), e.getStatus());
                if (isNew) {
                    closeStages(session);
                } else {
                    // the stages before this one took the new size: every stage holds at least the smaller one
                    session.reserved(Math.min(session.reserved(), positions));
                }
                return e.getStatus();
            }
        }
        session.reserved(positions);
        return null;
    }

    BatchLoop loopFor(Pipeline pipeline) {
        return loops.computeIfAbsent(pipeline.key(), key -> {
            BatchLoop loop = new BatchLoop(pipeline, this, clients, metrics, tracer, stepIds::incrementAndGet, config);
            Thread.ofVirtual().name("batch-" + key).start(loop);
            return loop;
        });
    }

    void loopEnded(BatchLoop loop) {
        loops.remove(loop.pipeline().key(), loop);
    }

    /** A request generated its last token. Batch loop thread. */
    void finished(GenerationRequest request) {
        RouterSession session = request.session();
        // idle before the client hears the end, so that a continuation finds the session free
        session.idle();
        onControl(() -> shrink(session));
        try (RequestLog log = RequestLog.of(request)) {
            request.complete();
            LOG.infof("request %s finished in %d ms", request.id(), request.waitedNanos() / 1_000_000);
        }
        wake();
    }

    /** A request failed after it was placed: the client reads why; its session is closed. */
    void failed(GenerationRequest request, String message) {
        try (RequestLog log = RequestLog.of(request)) {
            LOG.errorf("request %s failed: %s", request.id(), message);
            if (request.cancelled()) {
                request.recordCancelled();
            } else {
                request.fail(message);
            }
        }
        onControl(() -> close(request.session()));
        wake();
    }

    /** A placed request whose client went away: its session is closed on every stage. */
    void cancelled(GenerationRequest request) {
        try (RequestLog log = RequestLog.of(request)) {
            LOG.infof("request %s cancelled by the client", request.id());
        }
        request.recordCancelled();
        onControl(() -> close(request.session()));
        wake();
    }

    /** An idle session keeps only the positions it holds reserved. Control thread. */
    private void shrink(RouterSession session) {
        if (session.state() != RouterSession.State.IDLE || session.pipeline().gone() || session.length() >= session.reserved()) {
            return;
        }
        if (reserve(session, session.length(), false) != null) {
            LOG.warnf("could not shrink the reservation of idle session %s", session.id());
        }
        wake();
    }

    /** Closes sessions idle for too long, or whose pipeline left or drains, and retries failed closes. Control thread. */
    private void closeIdle() {
        // one failed close per worker a round: a worker that does not answer holds up the control thread once
        java.util.Set<Worker> failed = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        if (unclosed.removeIf(pending -> !failed.contains(pending.worker()) && (closeOn(pending) || !failed.add(pending.worker())))) {
            wake();
        }
        long deadline = System.nanoTime() - config.sessionIdle().toNanos();
        for (RouterSession session : sessions.all()) {
            boolean stale = session.idleSince(deadline)
                    || session.state() == RouterSession.State.IDLE && (session.pipeline().gone() || session.pipeline().draining());
            if (stale && session.closeIfIdle()) {
                closeStages(session);
                sessions.remove(session);
                LOG.debugf("idle session %s closed", session.id());
            }
        }
    }

    /**
     * Makes room for a waiting request: closes the session idle the longest that holds KV cache on one
     * of these workers (the waiting request is tried again once it is closed). Control thread.
     */
    private void evictIdle(List<Worker> workers) {
        sessions.all().stream()
                .filter(s -> s.state() == RouterSession.State.IDLE && s.pipeline().stages().stream().anyMatch(workers::contains))
                .min(Comparator.comparingLong(RouterSession::idleSinceNanos))
                .filter(RouterSession::closeIfIdle)
                .ifPresent(s -> {
                    LOG.infof("idle session %s closed to make room for a waiting request", s.id());
                    closeStages(s);
                    sessions.remove(s);
                    wake();
                });
    }

    private void close(RouterSession session) {
        if (session != null && session.close()) {
            closeStages(session);
            sessions.remove(session);
            wake();
        }
    }

    /**
     * Closes the session on every stage. A close that fails is retried every second (its bytes stay
     * counted on the worker meanwhile) until it succeeds or the worker is gone: a worker that missed it
     * would hold the KV cache for ever while the router believed it free.
     */
    private void closeStages(RouterSession session) {
        List<Worker> stages = session.pipeline().stages();
        for (int i = 0; i < stages.size(); i++) {
            Unclosed pending = new Unclosed(stages.get(i), session.id(), session.reservedBytes(i));
            session.reservedBytes(i, 0);
            if (!closeOn(pending)) {
                unclosed.add(pending);
            }
        }
    }

    /** A CloseSession that has not succeeded yet. */
    private record Unclosed(Worker worker, String session, long bytes) {
    }

    /** Returns true when the stage closed the session or is gone (its bytes are no longer counted). Control thread. */
    private boolean closeOn(Unclosed pending) {
        if (!pending.worker().gone()) {
            try {
                clients.control(pending.worker().address()).closeSession(CloseSessionRequest.newBuilder().setSessionId(pending.session()).build());
            } catch (StatusRuntimeException e) {
                LOG.warnf("could not close session %s on %s (retrying): %s", pending.session(), pending.worker(), e.getStatus());
                return false;
            }
        }
        pending.worker().addReserved(-pending.bytes());
        return true;
    }

    private void workerGone(Worker worker) {
        loops.values().stream().filter(loop -> loop.pipeline().contains(worker))
                .forEach(loop -> loop.abort("worker " + worker + " left"));
        onControl(this::closeIdle);
    }

    private int running() {
        return loops.values().stream().mapToInt(BatchLoop::size).sum();
    }

    private int waitingCount() {
        synchronized (waiting) {
            return waiting.size() + (placing == null ? 0 : 1);
        }
    }

    /** Runs on the control thread, unless the router is stopping. */
    private void onControl(Runnable task) {
        try {
            control.execute(task);
        } catch (RejectedExecutionException stopping) {
            LOG.debug("router stopping: control task dropped");
        }
    }

    /** Requests in flight fail; every session is closed on its stages so that workers free their KV cache. */
    @PreDestroy
    void stop() {
        ticker.shutdownNow();
        loops.values().forEach(loop -> loop.abort("router stopping"));
        onControl(() -> sessions.all().forEach(this::close));
        control.shutdown();
        try {
            control.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
