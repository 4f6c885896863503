package dev.binmos.gateway.auth;

import dev.binmos.gateway.GatewayConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/** The configured API keys ({@code binmos.gateway.api-keys}); with none configured every request is let in. */
@ApplicationScoped
public class ApiKeys {

    private static final String BEARER = "Bearer ";

    private final List<byte[]> keys;

    ApiKeys(GatewayConfig config) {
        this.keys = config.apiKeys().orElse(List.of()).stream()
                .filter(key -> !key.isBlank())
                .map(key -> key.trim().getBytes(StandardCharsets.UTF_8))
                .toList();
    }

    public boolean enabled() {
        return !keys.isEmpty();
    }

    /** Whether an {@code Authorization} header value ({@code Bearer KEY}, null when absent) lets the request in. */
    public boolean accepts(String authorization) {
        if (!enabled()) {
            return true;
        }
        if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return false;
        }
        byte[] given = authorization.substring(BEARER.length()).trim().getBytes(StandardCharsets.UTF_8);
        boolean match = false;
        for (byte[] key : keys) {
            match |= MessageDigest.isEqual(key, given); // constant time, and every key is compared
        }
        return match;
    }
}
