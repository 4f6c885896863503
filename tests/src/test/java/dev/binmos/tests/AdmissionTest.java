package dev.binmos.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.proto.v1.FinishReason;
import dev.binmos.proto.v1.GenerateRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Admission by KV-cache bytes on one worker holding every layer (1,280 bytes a position, blocks of 16
 * positions) with room for 336 positions, and a queue of one.
 */
class AdmissionTest {
    private static final int BLOCK_BYTES = 16 * 1280;

    @Test
    void sessionsThatDoNotFitWaitOrAreRefused() throws Exception {
        try (Cluster cluster = Cluster.builder("admission").model(TestModels.stories(), "stories260K")
                .router("binmos.router.max-waiting", "1")
                .workers("binmos.worker.kv-capacity-bytes", String.valueOf(21 * BLOCK_BYTES))
                .worker(0, 5)
                .start()) {
            // no max_tokens: the session may grow to the whole context, 512 positions: it never fits
            StatusRuntimeException never = assertThrows(StatusRuntimeException.class, () -> Streamed.call(cluster.generation(),
                    GenerateRequest.newBuilder().setPrompt("Once upon a time").build()));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, never.getStatus().getCode(), never.toString());

            // 5 + 330 positions: the whole cache, for a few seconds of generation
            CountDownLatch running = new CountDownLatch(1);
            CompletableFuture<Streamed> first = CompletableFuture.supplyAsync(() -> {
                var responses = cluster.generation().withDeadlineAfter(120, TimeUnit.SECONDS)
                        .generate(GenerateRequest.newBuilder().setPrompt("Once upon a time").setMaxTokens(330).build());
                responses.hasNext();
                running.countDown();
                return Streamed.read(responses);
            }, Grpcs.CLIENT_THREADS);
            assertTrue(running.await(60, TimeUnit.SECONDS));

            // a small session waits for the cache in the queue; one more finds the queue full
            GenerateRequest small = GenerateRequest.newBuilder().setPrompt("Lily").setMaxTokens(20).build();
            CompletableFuture<Streamed> second = CompletableFuture.supplyAsync(() -> Streamed.call(cluster.generation(), small),
                    Grpcs.CLIENT_THREADS);
            Grpcs.await(() -> Metrics.scrape(cluster.router()).value("binmos_num_requests_waiting") == 1, "the second request waits");
            StatusRuntimeException full = assertThrows(StatusRuntimeException.class, () -> Streamed.call(cluster.generation(), small));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, full.getStatus().getCode(), full.toString());
            assertTrue(full.getStatus().getDescription().contains("waiting"), full.getStatus().getDescription());
            assertTrue(!first.isDone(), "the first generation still held the cache");

            // the first ends and idles; the waiting request evicts it and runs
            assertEquals(FinishReason.FINISH_REASON_LENGTH, first.get(60, TimeUnit.SECONDS).finished().getReason());
            assertEquals(FinishReason.FINISH_REASON_LENGTH, second.get(60, TimeUnit.SECONDS).finished().getReason());
            assertTrue(Metrics.scrape(cluster.router()).value("binmos_request_queue_time_seconds_max") > 0.1, "the second request waited");
            assertTrue(cluster.router().logText().contains("closed to make room for a waiting request"));
        }
    }
}
