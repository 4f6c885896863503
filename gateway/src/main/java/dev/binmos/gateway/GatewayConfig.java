package dev.binmos.gateway;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** {@code binmos.gateway.*}: the gateway's own settings (the router's address is {@code quarkus.grpc.clients.router.*}). */
@ConfigMapping(prefix = "binmos.gateway")
public interface GatewayConfig {

    /** Accepted API keys (REST {@code Authorization: Bearer KEY}, gRPC metadata alike); none turns keys off. */
    Optional<List<String>> apiKeys();

    /** Deadline on the router for a request whose client set none. */
    @WithDefault("10m")
    Duration requestTimeout();

    /** Retry-After sent with 429/503 when the router gives no hint of its own. */
    @WithDefault("1s")
    Duration retryAfter();

    /** How long the router's model list is reused before the gateway asks again. */
    @WithDefault("2s")
    Duration modelsTtl();

    /** max_tokens of a {@code /v1/completions} request that sets none (OpenAI's default). */
    @WithDefault("16")
    int completionMaxTokens();
}
