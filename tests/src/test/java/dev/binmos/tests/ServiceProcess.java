package dev.binmos.tests;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * One Binmos service run as a real process from its fast-jar ({@code <module>/target/quarkus-app/quarkus-run.jar})
 * on a loopback port, HTTP and gRPC alike, its output in a log file. Needs the system properties the
 * tests module's surefire sets: {@code binmos.root}, {@code binmos.jvm.flags}.
 */
public final class ServiceProcess implements AutoCloseable {
    /** The property that gives a service a gRPC server of its own. */
    public static final String GRPC_PORT = "quarkus.grpc.server.port";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final long STOP_TIMEOUT_SECONDS = 60;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private final String name;
    private final int port;
    private final int grpcPort;
    private final Path log;
    private final Process process;
    private ManagedChannel channel;

    private ServiceProcess(String name, int port, int grpcPort, Path log, Process process) {
        this.name = name;
        this.port = port;
        this.grpcPort = grpcPort;
        this.log = log;
        this.process = process;
    }

    /**
     * Starts a module's service. Returns at once; call {@link #awaitReady()} before using it.
     *
     * @param module     directory of the module under the repository root, e.g. "layer-worker"
     * @param name       names the log file ({@code <logs>/<name>.log}) and messages
     * @param properties system properties for the service (-Dkey=value), e.g. its binmos.* configuration
     * @param jvmOptions extra JVM options (heap, GC), after the project's binmos.jvm.flags
     */
    public static ServiceProcess start(String module, String name, int port, Map<String, String> properties,
                                       List<String> jvmOptions, Path logs) {
        Path jar = root().resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: build it first, e.g. mvn -pl tests -am verify");
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(requiredProperty("binmos.jvm.flags").trim().split("\\s+")));
        command.addAll(jvmOptions);
        command.add("-Dquarkus.http.host=127.0.0.1");
        command.add("-Dquarkus.http.port=" + port);
        properties.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add("-jar");
        command.add(jar.toString());
        try {
            Files.createDirectories(logs);
            Path log = logs.resolve(name + ".log");
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            // a service with a separate gRPC server (quarkus.grpc.server.port) serves gRPC there, else on the HTTP port
            int grpc = properties.containsKey(GRPC_PORT) ? Integer.parseInt(properties.get(GRPC_PORT)) : port;
            return new ServiceProcess(name, port, grpc, log, process);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name, e);
        }
    }

    public String name() {
        return name;
    }

    public int port() {
        return port;
    }

    /** host:port of its HTTP server (health, metrics, REST; gRPC too unless it has a port of its own). */
    public String address() {
        return "127.0.0.1:" + port;
    }

    /** The port of its gRPC server. */
    public int grpcPort() {
        return grpcPort;
    }

    /** host:port of its gRPC server. */
    public String grpcAddress() {
        return "127.0.0.1:" + grpcPort;
    }

    public Process process() {
        return process;
    }

    public Path log() {
        return log;
    }

    public String logText() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A plaintext gRPC channel to it, made once and closed with the process. */
    public synchronized ManagedChannel channel() {
        if (channel == null) {
            channel = Grpc.newChannelBuilderForAddress("127.0.0.1", grpcPort, InsecureChannelCredentials.create())
                    .maxInboundMessageSize(256 << 20)
                    .build();
        }
        return channel;
    }

    /** Polls /q/health/ready until it answers 200 (UP) and returns that answer; fails if the process exits. */
    public JsonObject awaitReady() {
        return awaitReady(json -> true, "ready");
    }

    /** Polls /q/health/ready until it is UP and {@code condition} holds for the answer. */
    public JsonObject awaitReady(Predicate<JsonObject> condition, String what) {
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://" + address() + "/q/health/ready"))
                .timeout(Duration.ofSeconds(5))
                .build();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with code " + process.exitValue() + " before it was " + what
                        + ":\n" + logText());
            }
            try {
                HttpResponse<String> response = HTTP.send(ready, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    JsonObject json = Json.createReader(new StringReader(response.body())).readObject();
                    if (condition.test(json)) {
                        return json;
                    }
                }
                MILLISECONDS.sleep(100);
            } catch (IOException notListeningYet) {
                sleep();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException(name + " not " + what + " within " + START_TIMEOUT.toSeconds() + " s:\n" + logText());
    }

    /** GETs a path of its HTTP server, e.g. /q/metrics. */
    public String get(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + address() + path)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Sends SIGTERM (a graceful stop) and returns at once. */
    public void terminate() {
        process.destroy();
    }

    /** SIGTERM, then waits for the exit; returns false when it did not exit in time. */
    public boolean stop() {
        terminate();
        try {
            return process.waitFor(STOP_TIMEOUT_SECONDS, SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Stops it (forcibly if a graceful stop fails) and closes the channel. */
    @Override
    public void close() {
        if (process.isAlive() && !stop()) {
            process.destroyForcibly();
        }
        synchronized (this) {
            if (channel != null) {
                channel.shutdownNow();
            }
        }
    }

    /** A port free on the loopback interface now. */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path root() {
        return Path.of(requiredProperty("binmos.root")).toAbsolutePath().normalize();
    }

    static String requiredProperty(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("system property " + name + " is not set (the tests module's surefire sets it)");
        }
        return value;
    }

    private static void sleep() {
        try {
            MILLISECONDS.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
