package dev.binmos.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** deploy/local/run: one command brings the suite up, a completion works, SIGINT (Ctrl-C) stops every process. */
class LocalRunTest {
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);

    @Test
    void startsServesAndStopsOnSigint() throws Exception {
        int base = freePortRange(6);
        Path logs = Path.of("target", "local-run").toAbsolutePath();
        Files.createDirectories(logs);
        Path out = logs.resolve("run.out");
        Process run = new ProcessBuilder(ServiceProcess.root().resolve("deploy/local/run").toString(),
                "--model", TestModels.stories().toString(), "--port", String.valueOf(base), "--logs", logs.toString(), "--no-build")
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            awaitLine(run, out, "Binmos is up");
            List<ProcessHandle> services = run.descendants().toList();
            assertEquals(5, services.size(), "router, KV cache, two workers, gateway: " + services);

            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + base + "/v1/completions"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Once upon a time\", \"max_tokens\": 8, \"temperature\": 0}"))
                    .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), response.body());
            assertEquals(8, JsonPath.from(response.body()).getInt("usage.completion_tokens"));
            assertFalse(JsonPath.from(response.body()).getString("choices[0].text").isBlank());

            new ProcessBuilder("kill", "-INT", String.valueOf(run.pid())).start().waitFor();
            assertTrue(run.waitFor(60, TimeUnit.SECONDS), "run exits on SIGINT:\n" + Files.readString(out));
            assertEquals(130, run.exitValue());
            for (ProcessHandle service : services) {
                assertTrue(service.onExit().isDone() || !service.isAlive(), "still running: " + service.info());
            }
        } finally {
            run.descendants().forEach(ProcessHandle::destroyForcibly);
            run.destroyForcibly();
        }
    }

    private static void awaitLine(Process run, Path out, String line) throws Exception {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!Files.readString(out).contains(line)) {
            assertTrue(run.isAlive(), "run exited:\n" + Files.readString(out));
            assertTrue(System.nanoTime() < deadline, "not up within " + START_TIMEOUT + ":\n" + Files.readString(out));
            Thread.sleep(200);
        }
    }

    /** The first of {@code count} consecutive loopback ports that are free now. */
    private static int freePortRange(int count) throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 60_000);
            boolean free = true;
            for (int port = base; port < base + count && free; port++) {
                try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                    socket.setReuseAddress(true);
                } catch (IOException taken) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IOException("no " + count + " consecutive free ports found");
    }
}
