package dev.binmos.router;

import dev.binmos.router.registry.Worker;
import dev.binmos.router.registry.WorkerRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The router's Prometheus metrics, named after vLLM's: {@code binmos_time_to_first_token_seconds},
 * {@code binmos_inter_token_latency_seconds}, {@code binmos_e2e_request_latency_seconds},
 * {@code binmos_request_queue_time_seconds}, {@code binmos_num_requests_running|waiting},
 * {@code binmos_step_batch_size} (sessions per step), {@code binmos_kv_cache_reserved|capacity_bytes}.
 */
@Singleton
public class RouterMetrics {
    private final MeterRegistry registry;
    private final Timer timeToFirstToken;
    private final Timer interToken;
    private final Timer e2e;
    private final Timer queue;
    private final DistributionSummary batchSize;
    private final DistributionSummary stepTokens;
    private final Timer stepDuration;
    private final java.util.Map<Integer, Timer> stageCalls = new java.util.concurrent.ConcurrentHashMap<>();

    RouterMetrics(MeterRegistry registry, WorkerRegistry workers) {
        this.registry = registry;
        this.timeToFirstToken = latency("binmos.time.to.first.token", "From arrival to the first sampled token");
        this.interToken = latency("binmos.inter.token.latency", "Between consecutive tokens of a request");
        this.e2e = latency("binmos.e2e.request.latency", "From arrival to the last message");
        this.queue = latency("binmos.request.queue.time", "From arrival to placement on a pipeline");
        this.batchSize = DistributionSummary.builder("binmos.step.batch.size")
                .description("Sessions in one step (decode tokens and prefill chunks together)")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128)
                .register(registry);
        this.stepTokens = DistributionSummary.builder("binmos.step.tokens")
                .description("Tokens in one step")
                .serviceLevelObjectives(1, 4, 16, 64, 256, 1024)
                .register(registry);
        this.stepDuration = latency("binmos.step.duration", "One step at the router: every stage's Forward, sampling and streaming");
        Gauge.builder("binmos.kv.cache.reserved", workers, w -> w.all().stream().mapToLong(Worker::reservedBytes).sum())
                .baseUnit(BaseUnits.BYTES).description("KV-cache bytes this router has reserved on live workers").register(registry);
        Gauge.builder("binmos.kv.cache.capacity", workers, w -> w.all().stream().mapToLong(x -> x.info().getKvCapacityBytes()).sum())
                .baseUnit(BaseUnits.BYTES).description("KV-cache bytes of live workers").register(registry);
    }

    private Timer latency(String name, String description) {
        return Timer.builder(name)
                .description(description)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(10))
                .register(registry);
    }

    /** Binds the scheduler's queue gauges (called once by the scheduler). */
    public void bindQueues(Supplier<Number> running, Supplier<Number> waiting) {
        Gauge.builder("binmos.num.requests.running", running).description("Requests placed on a pipeline").register(registry);
        Gauge.builder("binmos.num.requests.waiting", waiting).description("Requests waiting for KV cache or a batch slot").register(registry);
    }

    public void queued(long nanos) {
        queue.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void firstToken(long nanos) {
        timeToFirstToken.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void interToken(long nanos) {
        interToken.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void step(int sessions, int tokens, long nanos) {
        batchSize.record(sessions);
        stepTokens.record(tokens);
        stepDuration.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** One Forward round trip to the stage at {@code index} of its pipeline, as the router sees it. */
    public void stageCall(int index, long nanos) {
        stageCalls.computeIfAbsent(index, i -> Timer.builder("binmos.stage.call")
                .description("One Forward call to a pipeline stage, from the router's side (the stage's own time is its binmos_stage_forward_seconds)")
                .tag("stage", String.valueOf(i))
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(10))
                .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** @param reason how it ended: a FinishReason name, "cancelled" or "rejected" */
    public void finished(long nanos, String reason) {
        e2e.record(nanos, TimeUnit.NANOSECONDS);
        Counter.builder("binmos.request.finished").tag("finished_reason", reason)
                .description("Requests by how they ended").register(registry).increment();
    }
}
