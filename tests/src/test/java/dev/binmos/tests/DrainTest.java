package dev.binmos.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.proto.v1.DrainRequest;
import dev.binmos.proto.v1.FinishReason;
import dev.binmos.proto.v1.GenerateRequest;
import dev.binmos.proto.v1.StageGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A worker stopped (SIGTERM) while sessions run on it drains first: grpc.health NOT_SERVING, no new
 * session, the running ones finish normally, then it deregisters and exits. The Drain RPC does the same
 * without stopping. (Hidden states travel as F16 here, the non-default encoding.)
 */
class DrainTest {

    @Test
    void stoppedWorkerFinishesItsSessionsFirst() throws Exception {
        try (Cluster cluster = Cluster.builder("drain").model(TestModels.stories(), "stories260K")
                .router("binmos.router.hidden-encoding", "f16").worker(0, 3).worker(3, 5).start()) {
            ServiceProcess leaving = cluster.worker(1);
            List<String> prompts = List.of("Once upon a time", "Lily and Ben went to the park", "The little dog was sad because", "Tom");
            CountDownLatch started = new CountDownLatch(prompts.size());
            List<CompletableFuture<Streamed>> calls = new ArrayList<>();
            List<CompletableFuture<Long>> finishedAt = new ArrayList<>();
            for (String prompt : prompts) {
                CompletableFuture<Streamed> call = CompletableFuture.supplyAsync(() -> {
                    var responses = cluster.generation().withDeadlineAfter(120, TimeUnit.SECONDS)
                            .generate(GenerateRequest.newBuilder().setPrompt(prompt).setMaxTokens(300).build());
                    responses.hasNext();
                    started.countDown();
                    return Streamed.read(responses);
                }, Grpcs.CLIENT_THREADS);
                calls.add(call);
                finishedAt.add(call.thenApply(done -> System.nanoTime()));
            }
            assertTrue(started.await(60, TimeUnit.SECONDS), "every generation has started");

            CompletableFuture<Long> exitedAt = leaving.process().onExit().thenApply(p -> System.nanoTime());
            leaving.terminate();
            Grpcs.await(() -> HealthGrpc.newBlockingStub(leaving.channel()).check(HealthCheckRequest.getDefaultInstance()).getStatus()
                    == ServingStatus.NOT_SERVING, "NOT_SERVING while draining");
            boolean inFlight = calls.stream().anyMatch(call -> !call.isDone());

            for (CompletableFuture<Streamed> call : calls) {
                Streamed streamed = call.get(120, TimeUnit.SECONDS);
                assertNotEquals(FinishReason.FINISH_REASON_ERROR, streamed.finished().getReason(), streamed.finished().getMessage());
            }
            long exited = exitedAt.get(60, TimeUnit.SECONDS);
            assertTrue(inFlight, "generations were still running when the drain began");
            for (CompletableFuture<Long> finished : finishedAt) {
                assertTrue(finished.get() < exited, "a generation finished after its worker exited");
            }
            String log = leaving.logText();
            assertTrue(log.contains("draining:") && log.contains("drained in") && log.contains("deregistered"), log);

            // no pipeline is left: new requests are refused at once
            StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> Streamed.call(cluster.generation(),
                    GenerateRequest.newBuilder().setPrompt("Hello").setMaxTokens(5).build()));
            assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), refused.toString());

            // the Drain RPC on the other worker completes once it holds no session
            ServiceProcess staying = cluster.worker(0);
            assertEquals(0, StageGrpc.newBlockingStub(staying.channel()).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .drain(DrainRequest.getDefaultInstance()).getSessionsRemaining());
            assertEquals(ServingStatus.NOT_SERVING, HealthGrpc.newBlockingStub(staying.channel())
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus());
            assertTrue(cluster.status(staying).getDraining());
        }
    }
}
