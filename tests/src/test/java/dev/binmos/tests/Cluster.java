package dev.binmos.tests;

import dev.binmos.proto.v1.GenerationGrpc;
import dev.binmos.proto.v1.StageGrpc;
import dev.binmos.proto.v1.StageStatus;
import dev.binmos.proto.v1.StatusRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A router and its layer workers, started as real processes from their fast-jars on free loopback
 * ports; logs go to {@code target/cluster-logs/<name>/<service>.log}. {@link Builder#start()} returns
 * once the router is ready and every worker has registered with it. Closing stops every process
 * (gracefully, then forcibly). Typical use:
 *
 * <pre>{@code
 * try (Cluster cluster = Cluster.builder("two-stages").model(TestModels.stories(), "stories260K")
 *         .worker(0, 2).worker(2, 5).start()) {
 *     GenerationGrpc.GenerationBlockingStub generation = cluster.generation();
 *     ...
 * }
 * }</pre>
 *
 * Services take their configuration as system properties ({@code binmos.router.*},
 * {@code binmos.worker.*}, {@code quarkus.*}); see each module's config interface. A gateway in front
 * of the router: {@link #startGateway}. Extension point for other services: start them with
 * {@link ServiceProcess#start} pointing at {@link #router()}'s address, and register them with
 * {@link #adopt} so that close() stops them.
 */
public final class Cluster implements AutoCloseable {
    /** Small heaps and the serial collector: test models are tiny and the machine has two cores. */
    public static final List<String> TEST_JVM_OPTIONS = List.of("-Xmx384m", "-XX:+UseSerialGC");

    private final String name;
    private final Path logs;
    private final List<String> jvmOptions;
    private final Map<String, String> workerDefaults;
    private final ServiceProcess router;
    private final List<ServiceProcess> workers = new ArrayList<>();
    private final List<ServiceProcess> others = new ArrayList<>();
    private final List<Gateway> gateways = new ArrayList<>();

    private Cluster(String name, List<String> jvmOptions, Map<String, String> workerDefaults, ServiceProcess router) {
        this.name = name;
        this.logs = router.log().getParent();
        this.jvmOptions = jvmOptions;
        this.workerDefaults = workerDefaults;
        this.router = router;
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    public static final class Builder {
        private final String name;
        private final Map<String, String> routerProperties = new LinkedHashMap<>();
        private final Map<String, String> workerDefaults = new LinkedHashMap<>();
        private final List<Map<String, String>> workers = new ArrayList<>();
        private List<String> jvmOptions = TEST_JVM_OPTIONS;

        private Builder(String name) {
            this.name = name;
        }

        /** The model every service uses, served under {@code id}. */
        public Builder model(Path file, String id) {
            routerProperties.put("binmos.router.models." + id + ".path", file.toString());
            workerDefaults.put("binmos.worker.model", file.toString());
            workerDefaults.put("binmos.worker.model-id", id);
            return this;
        }

        /** A router setting, e.g. ("binmos.router.prefill-chunk", "16"). */
        public Builder router(String key, String value) {
            routerProperties.put(key, value);
            return this;
        }

        /** A setting of every worker, e.g. ("binmos.worker.kv-capacity-bytes", "65536"). */
        public Builder workers(String key, String value) {
            workerDefaults.put(key, value);
            return this;
        }

        /** A worker for layers [from, to), with settings of its own (key, value, key, value, ...). */
        public Builder worker(int from, int to, String... settings) {
            workers.add(workerProperties(from, to, settings));
            return this;
        }

        public Builder jvmOptions(List<String> options) {
            this.jvmOptions = List.copyOf(options);
            return this;
        }

        /** Starts the router, then every worker; returns when all workers have registered. */
        public Cluster start() {
            Path logs = Path.of("target", "cluster-logs", name).toAbsolutePath();
            Map<String, String> properties = new LinkedHashMap<>(routerProperties);
            properties.put("quarkus.grpc.server.host", "127.0.0.1");
            properties.put(ServiceProcess.GRPC_PORT, String.valueOf(ServiceProcess.freePort()));
            ServiceProcess router = ServiceProcess.start("router-service", "router", ServiceProcess.freePort(), properties,
                    jvmOptions, logs);
            Cluster cluster = new Cluster(name, jvmOptions, workerDefaults, router);
            try {
                router.awaitReady();
                for (Map<String, String> worker : workers) {
                    cluster.launchWorker(worker);
                }
                cluster.workers.forEach(ServiceProcess::awaitReady);
                cluster.awaitRegistered(workers.size());
                return cluster;
            } catch (RuntimeException e) {
                cluster.close();
                throw e;
            }
        }

        private static Map<String, String> workerProperties(int from, int to, String... settings) {
            if (settings.length % 2 != 0) {
                throw new IllegalArgumentException("settings come in key, value pairs");
            }
            Map<String, String> properties = new LinkedHashMap<>();
            properties.put("binmos.worker.layer-from", String.valueOf(from));
            properties.put("binmos.worker.layer-to", String.valueOf(to));
            for (int i = 0; i < settings.length; i += 2) {
                properties.put(settings[i], settings[i + 1]);
            }
            return properties;
        }
    }

    private ServiceProcess launchWorker(Map<String, String> own) {
        int index = workers.size();
        int port = ServiceProcess.freePort();
        Map<String, String> properties = new LinkedHashMap<>(workerDefaults);
        properties.put("binmos.worker.router", router.grpcAddress());
        properties.put("binmos.worker.worker-id", "worker-" + index);
        properties.put("binmos.worker.advertised-address", "127.0.0.1:" + port);
        properties.putAll(own);
        ServiceProcess worker = ServiceProcess.start("layer-worker", "worker-" + index, port, properties, jvmOptions, logs);
        workers.add(worker);
        return worker;
    }

    /** Starts one more worker for layers [from, to) and waits until the router counts {@code registered} workers. */
    public ServiceProcess addWorker(int from, int to, String... settings) {
        ServiceProcess worker = launchWorker(Builder.workerProperties(from, to, settings));
        worker.awaitReady();
        awaitRegistered(workers.size());
        return worker;
    }

    /** Waits until the router's readiness reports this many workers taking sessions. */
    public void awaitRegistered(int count) {
        router.awaitReady(json -> json.getJsonArray("checks").getValuesAs(jakarta.json.JsonObject.class).stream()
                .filter(check -> check.getString("name").equals("binmos-router"))
                .anyMatch(check -> check.getJsonObject("data").getJsonNumber("workers").intValue() == count),
                "reporting " + count + " registered workers");
    }

    /**
     * Starts a gateway in front of the router and waits until it is ready; it stops with the cluster.
     *
     * @param settings its settings as key, value pairs, e.g. ("binmos.gateway.api-keys", "k1,k2")
     */
    public Gateway startGateway(String name, String... settings) {
        Gateway gateway = Gateway.start(name, router, logs, jvmOptions, settings);
        gateways.add(gateway);
        return gateway;
    }

    /** Stops this process with the cluster. */
    public void adopt(ServiceProcess process) {
        others.add(process);
    }

    public String name() {
        return name;
    }

    public Path logs() {
        return logs;
    }

    public ServiceProcess router() {
        return router;
    }

    public List<ServiceProcess> workers() {
        return List.copyOf(workers);
    }

    public ServiceProcess worker(int index) {
        return workers.get(index);
    }

    /** A blocking stub of the router's public Generation service. */
    public GenerationGrpc.GenerationBlockingStub generation() {
        return GenerationGrpc.newBlockingStub(router.channel());
    }

    /** A streaming stub of the router's public Generation service. */
    public GenerationGrpc.GenerationStub generationAsync() {
        return GenerationGrpc.newStub(router.channel());
    }

    /** Stage/Status of a worker. */
    public StageStatus status(ServiceProcess worker) {
        return StageGrpc.newBlockingStub(worker.channel()).withDeadlineAfter(10, TimeUnit.SECONDS).status(StatusRequest.getDefaultInstance());
    }

    /** Stops the gateways and other services, then the workers, then the router. */
    @Override
    public void close() {
        gateways.forEach(Gateway::close);
        others.forEach(ServiceProcess::close);
        workers.parallelStream().forEach(ServiceProcess::close);
        router.close();
    }
}
