package dev.binmos.tests;

import dev.binmos.proto.v1.GenerationGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.restassured.specification.RequestSpecification;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;

/**
 * A gateway process in front of a router: REST (and health, metrics) on its HTTP port, the public gRPC API on a
 * port of its own (the gateway runs a separate gRPC server, see its application.properties). Start one with
 * {@link Cluster#startGateway}; the cluster stops it.
 */
public final class Gateway implements AutoCloseable {
    private final ServiceProcess process;
    private final int grpcPort;
    private ManagedChannel channel;

    private Gateway(ServiceProcess process, int grpcPort) {
        this.process = process;
        this.grpcPort = grpcPort;
    }

    /** Starts it (named {@code name} in the logs) and waits until it is ready; settings as key, value pairs. */
    static Gateway start(String name, ServiceProcess router, Path logs, List<String> jvmOptions, String... settings) {
        if (settings.length % 2 != 0) {
            throw new IllegalArgumentException("settings come in key, value pairs");
        }
        int grpcPort = ServiceProcess.freePort();
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("quarkus.grpc.clients.router.host", "127.0.0.1");
        properties.put("quarkus.grpc.clients.router.port", String.valueOf(router.grpcPort()));
        properties.put("quarkus.grpc.server.host", "127.0.0.1");
        properties.put("quarkus.grpc.server.port", String.valueOf(grpcPort));
        for (int i = 0; i < settings.length; i += 2) {
            properties.put(settings[i], settings[i + 1]);
        }
        Gateway gateway = new Gateway(ServiceProcess.start("gateway", name, ServiceProcess.freePort(), properties, jvmOptions, logs),
                grpcPort);
        try {
            gateway.process.awaitReady();
            return gateway;
        } catch (RuntimeException e) {
            gateway.close();
            throw e;
        }
    }

    public ServiceProcess process() {
        return process;
    }

    /** http://127.0.0.1:port */
    public String url() {
        return "http://" + process.address();
    }

    /** A RestAssured request to its REST API. */
    public RequestSpecification rest() {
        return given().baseUri(url());
    }

    /** A plaintext channel to its gRPC port, made once and closed with it. */
    public synchronized ManagedChannel channel() {
        if (channel == null) {
            channel = Grpc.newChannelBuilderForAddress("127.0.0.1", grpcPort, InsecureChannelCredentials.create()).build();
        }
        return channel;
    }

    public GenerationGrpc.GenerationBlockingStub generation() {
        return GenerationGrpc.newBlockingStub(channel());
    }

    public GenerationGrpc.GenerationStub generationAsync() {
        return GenerationGrpc.newStub(channel());
    }

    @Override
    public void close() {
        synchronized (this) {
            if (channel != null) {
                channel.shutdownNow();
            }
        }
        process.close();
    }
}
