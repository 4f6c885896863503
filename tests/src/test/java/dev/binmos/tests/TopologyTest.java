package dev.binmos.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.generate.Completion;
import dev.binmos.engine.generate.Generation;
import dev.binmos.proto.v1.GenerateRequest;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Pipelines of three stages with uneven layer ranges, first alone, then with a replica of the middle
 * range: both give the single-process engine's tokens, and the router spreads sessions over replicas.
 */
class TopologyTest {
    private static final List<String> PROMPTS = List.of("Once upon a time", "Lily and Ben went to the park",
            "The little dog was sad because", "Sam found a box", "The sun was hot", "Mia had a kite");

    @Test
    void unevenStagesThenAReplicaOfOneRange() throws Exception {
        try (Cluster cluster = Cluster.builder("topology").model(TestModels.stories(), "stories260K")
                .worker(0, 1).worker(1, 4).worker(4, 5).start();
             Reference reference = new Reference(TestModels.stories())) {
            generateConcurrently(cluster, reference);
            for (ServiceProcess worker : cluster.workers()) {
                assertTrue(cluster.status(worker).getSessions() > 0, worker.name() + " served the sessions");
            }

            ServiceProcess replica = cluster.addWorker(1, 4);
            generateConcurrently(cluster, reference);
            // sessions idle (kept for continuation) on the middle replicas: the new one took some by load
            assertTrue(cluster.status(replica).getSessions() > 0, "the replica of [1, 4) took sessions");
            assertEquals(PROMPTS.size() * 2L, cluster.status(cluster.worker(0)).getSessions(), "every session passes stage [0, 1)");
            assertEquals(PROMPTS.size() * 2L, cluster.status(cluster.worker(1)).getSessions() + cluster.status(replica).getSessions(),
                    "every session passes one replica of [1, 4)");
        }
    }

    private static void generateConcurrently(Cluster cluster, Reference reference) throws Exception {
        List<CompletableFuture<Streamed>> calls = PROMPTS.stream()
                .map(text -> CompletableFuture.supplyAsync(() -> Streamed.call(cluster.generation(),
                        GenerateRequest.newBuilder().setPrompt(text).setMaxTokens(40).build()), Grpcs.CLIENT_THREADS))
                .toList();
        for (int i = 0; i < PROMPTS.size(); i++) {
            Completion expected = reference.generate(reference.tokenizer().encode(PROMPTS.get(i), true, false), Generation.greedy(40));
            Streamed streamed = calls.get(i).get(120, TimeUnit.SECONDS);
            assertArrayEquals(expected.tokens(), streamed.tokenArray(), PROMPTS.get(i));
            assertEquals(expected.text(), streamed.text(), PROMPTS.get(i));
        }
    }
}
