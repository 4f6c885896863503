package dev.binmos.gateway;

import dev.binmos.gateway.openai.FinishReasons;
import dev.binmos.proto.v1.GenerateResponse;
import dev.binmos.proto.v1.GenerationFinished;
import dev.binmos.proto.v1.Usage;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.smallrye.mutiny.Multi;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Watches every generation the gateway forwards: metrics named after vLLM's ({@code binmos_gateway_} instead of
 * {@code vllm:}, tagged with {@code api}: rest or grpc; Prometheus format at {@code /q/metrics}, next to Quarkus'
 * HTTP and gRPC server metrics), and one log line per request with its id.
 */
@ApplicationScoped
public class GenerationObserver {

    private static final Logger LOG = Logger.getLogger(GenerationObserver.class);

    private static final Duration[] LATENCY_BUCKETS = buckets(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120);
    private static final Duration[] TOKEN_BUCKETS = buckets(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1);

    private final MeterRegistry registry;
    private final AtomicInteger running = new AtomicInteger();

    GenerationObserver(MeterRegistry registry) {
        this.registry = registry;
        registry.gauge("binmos_gateway_num_requests_running", running);
    }

    /** {@code events}, observed: time to first token, inter-token latency, end-to-end latency, tokens, outcome. */
    public Multi<GenerateResponse> observe(String api, String requestId, String model, Multi<GenerateResponse> events) {
        return Multi.createFrom().deferred(() -> {
            Observation o = new Observation(api, requestId, model);
            return events.onSubscription().invoke(o::start)
                    .onItem().invoke(o::event)
                    .onTermination().invoke(o::end);
        });
    }

    /** A request that ended in an error (invalid, unauthenticated, router full or failing...), by gRPC code. */
    public void failed(String api, Status.Code code) {
        Counter.builder("binmos_gateway_request_failure").tags("api", api, "code", code.name().toLowerCase(Locale.ROOT))
                .register(registry).increment();
    }

    private final class Observation {
        private final String api;
        private final String requestId;
        private final String model;
        private long started;
        private long firstToken;
        private long lastToken;
        private boolean sawToken;
        private GenerationFinished finished;

        Observation(String api, String requestId, String model) {
            this.api = api;
            this.requestId = requestId;
            this.model = model;
        }

        void start() {
            started = System.nanoTime();
            lastToken = started;
            running.incrementAndGet();
        }

        void event(GenerateResponse event) {
            if (event.hasToken()) {
                long now = System.nanoTime();
                Timer timer = sawToken
                        ? timer("binmos_gateway_inter_token_latency", TOKEN_BUCKETS)
                        : timer("binmos_gateway_time_to_first_token", LATENCY_BUCKETS);
                timer.record(Duration.ofNanos(now - lastToken));
                if (!sawToken) {
                    firstToken = now;
                }
                lastToken = now;
                sawToken = true;
            } else if (event.hasFinished()) {
                finished = event.getFinished();
            }
        }

        /** Failures are counted where they are answered ({@link #failed}); a client that went away is an abort. */
        void end(Throwable failure, boolean cancelled) {
            MDC.put("requestId", requestId);
            try {
                record(failure, cancelled);
            } finally {
                MDC.remove("requestId");
            }
        }

        private void record(Throwable failure, boolean cancelled) {
            running.decrementAndGet();
            long total = System.nanoTime() - started;
            timer("binmos_gateway_e2e_request_latency", LATENCY_BUCKETS).record(Duration.ofNanos(total));
            String reason = finished == null ? null : FinishReasons.openAi(finished.getReason());
            if (reason != null) {
                success(reason);
                Usage usage = finished.getUsage();
                Counter.builder("binmos_gateway_prompt_tokens").tag("api", api).register(registry)
                        .increment(usage.getPromptTokens());
                Counter.builder("binmos_gateway_generation_tokens").tag("api", api).register(registry)
                        .increment(usage.getCompletionTokens());
                LOG.infof("generation done api=%s model=%s finish_reason=%s prompt_tokens=%d completion_tokens=%d"
                                + " ttft_ms=%.1f total_ms=%.1f", api, model, reason, usage.getPromptTokens(),
                        usage.getCompletionTokens(), sawToken ? (firstToken - started) / 1e6 : Double.NaN, total / 1e6);
            } else if (cancelled) {
                success("abort");
                LOG.infof("generation cancelled api=%s model=%s total_ms=%.1f (the client went away)", api, model,
                        total / 1e6);
            } else {
                GatewayException e = GatewayException.of(failure != null ? failure
                        : new IllegalStateException(finished == null ? "no result" : finished.getMessage()), null);
                LOG.infof("generation failed api=%s model=%s code=%s total_ms=%.1f message=%s", api, model, e.code(),
                        total / 1e6, e.getMessage());
            }
        }

        private void success(String finishedReason) {
            Counter.builder("binmos_gateway_request_success").tags("api", api, "finished_reason", finishedReason)
                    .register(registry).increment();
        }

        private Timer timer(String name, Duration[] buckets) {
            return Timer.builder(name).tag("api", api).serviceLevelObjectives(buckets).register(registry);
        }
    }

    private static Duration[] buckets(double... seconds) {
        Duration[] out = new Duration[seconds.length];
        for (int i = 0; i < seconds.length; i++) {
            out[i] = Duration.ofNanos((long) (seconds[i] * 1e9));
        }
        return out;
    }
}
