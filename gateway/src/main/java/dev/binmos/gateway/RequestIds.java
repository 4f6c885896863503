package dev.binmos.gateway;

import java.util.UUID;
import java.util.regex.Pattern;

/** Request ids: the client's {@code X-Request-Id} / {@code x-request-id} when it is sane, else a new random one. */
public final class RequestIds {

    private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private RequestIds() {
    }

    public static String of(String given) {
        return given != null && SANE.matcher(given).matches() ? given : UUID.randomUUID().toString().replace("-", "");
    }
}
