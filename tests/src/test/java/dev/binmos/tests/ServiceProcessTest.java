package dev.binmos.tests;

import static java.util.concurrent.TimeUnit.SECONDS;
import static java.util.stream.Collectors.toMap;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.proto.v1.DescribeRequest;
import dev.binmos.proto.v1.NodeDescription;
import dev.binmos.proto.v1.NodeGrpc;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import jakarta.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Starts each service from its fast-jar as a real process on a free port, checks that it reports
 * ready and serves gRPC on that same port (the gateway: on its gRPC port), then stops it and checks
 * that it shut down cleanly.
 */
class ServiceProcessTest {
    private static final long GRPC_DEADLINE_SECONDS = 10;

    @ParameterizedTest(name = "{1}")
    @CsvSource({
        "gateway,          binmos-gateway",
        "router-service,   binmos-router",
        "kv-cache-service, binmos-kv-cache",
        "layer-worker,     binmos-layer-worker"
    })
    void startsServesAndStops(String module, String service) throws Exception {
        Path logs = Path.of("target", "service-logs").toAbsolutePath();
        // the gateway is ready once a router serves a model: give it one (without workers)
        ServiceProcess router = module.equals("gateway") ? ServiceProcess.start("router-service", "gateway-router",
                ServiceProcess.freePort(), Map.of("binmos.router.models.stories260K.path", TestModels.stories().toString(),
                        ServiceProcess.GRPC_PORT, String.valueOf(ServiceProcess.freePort())),
                Cluster.TEST_JVM_OPTIONS, logs) : null;
        // the gateway and the router serve gRPC on a port of their own (a separate gRPC server: see their application.properties)
        int grpcPort = module.equals("gateway") || module.equals("router-service") ? ServiceProcess.freePort() : 0;
        Map<String, String> properties = switch (module) {
            case "gateway" -> Map.of("quarkus.grpc.clients.router.port", String.valueOf(router.grpcPort()),
                    "quarkus.grpc.server.host", "127.0.0.1", "quarkus.grpc.server.port", String.valueOf(grpcPort));
            case "router-service" -> Map.of("quarkus.grpc.server.host", "127.0.0.1", "quarkus.grpc.server.port", String.valueOf(grpcPort));
            // a layer worker needs a model; it runs unregistered without a router
            case "layer-worker" -> Map.of("binmos.worker.model", TestModels.stories().toString());
            default -> Map.of();
        };
        long started = System.nanoTime();
        try (router; ServiceProcess process = ServiceProcess.start(module, module, ServiceProcess.freePort(), properties,
                Cluster.TEST_JVM_OPTIONS, logs)) {
            JsonObject ready = process.awaitReady();
            System.out.printf("%s ready in %d ms%n", service, (System.nanoTime() - started) / 1_000_000);

            assertEquals("UP", ready.getString("status"), ready::toString);
            Map<String, String> checks = ready.getJsonArray("checks").getValuesAs(JsonObject.class).stream()
                    .collect(toMap(check -> check.getString("name"), check -> check.getString("status")));
            assertEquals("UP", checks.get(service), ready::toString);
            assertEquals("UP", checks.get("gRPC Server"), ready::toString);
            checkGrpc(process.channel(), service);

            assertTrue(process.stop(), service + " did not exit within the stop timeout of SIGTERM");
            assertTrue(process.logText().contains(service + " stopped in"), service + " did not shut down cleanly:\n" + process.logText());
        }
    }

    /** gRPC goes through the HTTP port (quarkus.grpc.server.use-separate-server=false), the gateway's and router's through their own. */
    private static void checkGrpc(ManagedChannel channel, String service) throws Exception {
        ServingStatus health = HealthGrpc.newBlockingStub(channel)
                .withDeadlineAfter(GRPC_DEADLINE_SECONDS, SECONDS)
                .check(HealthCheckRequest.getDefaultInstance())
                .getStatus();
        assertEquals(ServingStatus.SERVING, health, "grpc.health.v1.Health/Check");

        NodeDescription description = NodeGrpc.newBlockingStub(channel)
                .withDeadlineAfter(GRPC_DEADLINE_SECONDS, SECONDS)
                .describe(DescribeRequest.getDefaultInstance());
        assertEquals(service, description.getService(), "binmos.v1.Node/Describe service");
        assertEquals(ServiceProcess.requiredProperty("binmos.version"), description.getVersion(), "binmos.v1.Node/Describe version");

        List<String> services = Grpcs.listServices(channel);
        assertTrue(services.containsAll(List.of("binmos.v1.Node", "grpc.health.v1.Health")), "services listed by reflection: " + services);
    }
}
