package dev.binmos.layerworker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Prometheus metrics of a stage (names as the router's, where they mean the same). */
@Singleton
public class WorkerMetrics {
    private final DistributionSummary batchSize;
    private final DistributionSummary stepTokens;
    private final Timer forward;
    private final Counter repeated;

    WorkerMetrics(MeterRegistry registry, StageSessions sessions) {
        this.batchSize = DistributionSummary.builder("binmos.step.batch.size")
                .description("Sessions in one batched forward")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128)
                .register(registry);
        this.stepTokens = DistributionSummary.builder("binmos.step.tokens")
                .description("Tokens in one batched forward (decode tokens and prefill chunks)")
                .serviceLevelObjectives(1, 4, 16, 64, 256, 1024)
                .register(registry);
        this.forward = Timer.builder("binmos.stage.forward")
                .description("Time of one step on this stage: embed or decode, layers, logits or encode")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(100_000))
                .maximumExpectedValue(Duration.ofSeconds(30))
                .register(registry);
        this.repeated = Counter.builder("binmos.stage.repeated.steps")
                .description("Steps received again (retries) and answered without running them")
                .register(registry);
        Gauge.builder("binmos.stage.sessions", sessions, StageSessions::count)
                .description("Sessions open on this stage").register(registry);
        Gauge.builder("binmos.kv.cache.used", sessions, StageSessions::usedBytes).baseUnit(BaseUnits.BYTES)
                .description("KV-cache bytes the sessions hold").register(registry);
        Gauge.builder("binmos.kv.cache.reserved", sessions, StageSessions::reservedBytes).baseUnit(BaseUnits.BYTES)
                .description("KV-cache bytes reserved by open sessions").register(registry);
        Gauge.builder("binmos.kv.cache.capacity", sessions, StageSessions::capacityBytes).baseUnit(BaseUnits.BYTES)
                .description("KV-cache bytes sessions may reserve").register(registry);
    }

    void step(int sessions, int tokens, long nanos) {
        batchSize.record(sessions);
        stepTokens.record(tokens);
        forward.record(nanos, TimeUnit.NANOSECONDS);
    }

    void repeatedStep() {
        repeated.increment();
    }
}
