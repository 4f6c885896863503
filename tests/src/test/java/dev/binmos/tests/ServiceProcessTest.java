package dev.binmos.tests;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static java.util.stream.Collectors.toMap;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.UnknownFieldSet;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
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
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Starts each service from its fast-jar as a real process on a free port, checks that it reports
 * ready and serves gRPC on that same port, then stops it and checks that it shut down cleanly.
 */
class ServiceProcessTest {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final long STOP_TIMEOUT_SECONDS = 30;
    private static final long GRPC_DEADLINE_SECONDS = 10;

    /** binmos.v1.Node/Describe, called without generated stubs: this module has none. */
    private static final MethodDescriptor<byte[], byte[]> DESCRIBE = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName("binmos.v1.Node", "Describe"))
            .setRequestMarshaller(new BytesMarshaller())
            .setResponseMarshaller(new BytesMarshaller())
            .build();

    @ParameterizedTest(name = "{1}")
    @CsvSource({
        "gateway,          binmos-gateway",
        "router-service,   binmos-router",
        "kv-cache-service, binmos-kv-cache",
        "layer-worker,     binmos-layer-worker"
    })
    void startsServesAndStops(String module, String service) throws Exception {
        Path jar = root().resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
        assertTrue(Files.isRegularFile(jar), jar + " is missing: build it first, e.g. mvn -pl tests -am verify");
        Path log = Files.createDirectories(Path.of("target", "service-logs")).resolve(module + ".log");
        int port = freePort();

        long started = System.nanoTime();
        Process process = start(jar, port, log);
        try {
            JsonObject ready = awaitReady(process, port, log);
            System.out.printf("%s ready in %d ms%n", service, (System.nanoTime() - started) / 1_000_000);

            assertEquals("UP", ready.getString("status"), ready::toString);
            Map<String, String> checks = ready.getJsonArray("checks").getValuesAs(JsonObject.class).stream()
                    .collect(toMap(check -> check.getString("name"), check -> check.getString("status")));
            assertEquals("UP", checks.get(service), ready::toString);
            assertEquals("UP", checks.get("gRPC Server"), ready::toString);
            checkGrpc(port, service);

            process.destroy();
            assertTrue(process.waitFor(STOP_TIMEOUT_SECONDS, SECONDS),
                    service + " did not exit within " + STOP_TIMEOUT_SECONDS + " s of SIGTERM");
            assertTrue(Files.readString(log).contains(service + " stopped in"),
                    service + " did not shut down cleanly:\n" + Files.readString(log));
        } finally {
            process.destroyForcibly();
        }
    }

    /** gRPC goes through the HTTP port (quarkus.grpc.server.use-separate-server=false). */
    private static void checkGrpc(int port, String service) throws Exception {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create())
                .build();
        try {
            ServingStatus health = HealthGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(GRPC_DEADLINE_SECONDS, SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance())
                    .getStatus();
            assertEquals(ServingStatus.SERVING, health, "grpc.health.v1.Health/Check");

            byte[] description = ClientCalls.blockingUnaryCall(channel, DESCRIBE,
                    CallOptions.DEFAULT.withDeadlineAfter(GRPC_DEADLINE_SECONDS, SECONDS), new byte[0]);
            // NodeDescription: service is field 1, version field 2 (binmos/v1/node.proto).
            UnknownFieldSet fields = UnknownFieldSet.parseFrom(description);
            assertEquals(service, fields.getField(1).getLengthDelimitedList().getFirst().toStringUtf8(),
                    "binmos.v1.Node/Describe service");
            assertEquals(requiredProperty("binmos.version"),
                    fields.getField(2).getLengthDelimitedList().getFirst().toStringUtf8(),
                    "binmos.v1.Node/Describe version");

            List<String> services = listServices(channel);
            assertTrue(services.containsAll(List.of("binmos.v1.Node", "grpc.health.v1.Health")),
                    "services listed by reflection: " + services);
        } finally {
            channel.shutdownNow().awaitTermination(GRPC_DEADLINE_SECONDS, SECONDS);
        }
    }

    private static List<String> listServices(ManagedChannel channel) throws Exception {
        CompletableFuture<ServerReflectionResponse> response = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                .withDeadlineAfter(GRPC_DEADLINE_SECONDS, SECONDS)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse value) {
                        response.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        response.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        response.completeExceptionally(new IllegalStateException("no reflection response"));
                    }
                });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();
        return response.get(GRPC_DEADLINE_SECONDS, SECONDS).getListServicesResponse().getServiceList().stream()
                .map(ServiceResponse::getName)
                .toList();
    }

    private static Process start(Path jar, int port, Path log) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(requiredProperty("binmos.jvm.flags").trim().split("\\s+")));
        command.add("-Dquarkus.http.host=127.0.0.1");
        command.add("-Dquarkus.http.port=" + port);
        command.add("-jar");
        command.add(jar.toString());
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    /** Polls /q/health/ready until it answers 200 (UP) and returns that answer; fails early if the process exits. */
    private static JsonObject awaitReady(Process process, int port, Path log) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/ready"))
                .timeout(Duration.ofSeconds(5))
                .build();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                fail("exited with code " + process.exitValue() + " before it was ready:\n" + Files.readString(log));
            }
            try {
                HttpResponse<String> response = client.send(ready, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return Json.createReader(new StringReader(response.body())).readObject();
                }
            } catch (IOException notListeningYet) {
                // keep polling
            }
            MILLISECONDS.sleep(100);
        }
        return fail("not ready within " + START_TIMEOUT.toSeconds() + " s:\n" + Files.readString(log));
    }

    private static Path root() {
        return Path.of(requiredProperty("binmos.root")).toAbsolutePath().normalize();
    }

    private static String requiredProperty(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("system property " + name + " is not set (the tests module's surefire sets it)");
        }
        return value;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static final class BytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
