package dev.binmos.router.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.proto.v1.PodLayout;
import dev.binmos.proto.v1.WorkerInfo;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PipelinePlannerTest {
    private static final String HASH = "a".repeat(64);
    private static final int LAYERS = 6;

    private static Worker worker(String id, int from, int to) {
        return worker(id, from, to, HASH, PodLayout.getDefaultInstance(), 1 << 20);
    }

    private static Worker worker(String id, int from, int to, String hash, PodLayout pod, long capacity) {
        return new Worker(WorkerInfo.newBuilder().setWorkerId(id).setModelId("m").setModelHash(hash).setPod(pod)
                .setLayerFrom(from).setLayerTo(to).setTotalLayers(LAYERS).setKvCapacityBytes(capacity)
                .setKvBytesPerPosition(100).setKvBlockPositions(16).setAddress(id + ":1").build());
    }

    private static Optional<Pipeline> plan(int positions, Worker... workers) {
        return PipelinePlanner.plan(LAYERS, PipelinePlanner.eligible(HASH, LAYERS, List.of(workers)), positions,
                PipelinePlanner.Fit.NOW);
    }

    private static List<String> ids(Pipeline pipeline) {
        return pipeline.stages().stream().map(Worker::id).toList();
    }

    @Test
    void coversTheLayersWithUnevenRangesAndFewestStages() {
        Worker a = worker("a", 0, 1);
        Worker b = worker("b", 1, 5);
        Worker c = worker("c", 5, 6);
        Worker whole = worker("whole", 1, 6);
        assertEquals(List.of("a", "b", "c"), ids(plan(10, a, b, c).orElseThrow()));
        assertEquals(List.of("a", "whole"), ids(plan(10, a, b, c, whole).orElseThrow()));
        assertTrue(plan(10, a, c).isEmpty(), "layers [1, 5) are missing");
    }

    @Test
    void replicasArePickedByLoad() {
        Worker first = worker("first", 0, 3);
        Worker busy = worker("busy", 3, 6);
        Worker idle = worker("idle", 3, 6);
        busy.addReserved(500_000);
        assertEquals(List.of("first", "idle"), ids(plan(10, first, busy, idle).orElseThrow()));
        idle.addReserved(900_000);
        assertEquals(List.of("first", "busy"), ids(plan(10, first, busy, idle).orElseThrow()));
    }

    @Test
    void kvCapacityLimitsPlacement() {
        Worker small = worker("small", 0, 6, HASH, PodLayout.getDefaultInstance(), 16 * 100 * 4);
        assertTrue(plan(64, small).isPresent(), "4 blocks of 16 positions fit");
        assertTrue(plan(65, small).isEmpty(), "5 blocks do not");
        small.addReserved(100);
        assertTrue(plan(64, small).isEmpty(), "not while something else is reserved");
        assertTrue(PipelinePlanner.plan(LAYERS, List.of(small), 64, PipelinePlanner.Fit.EMPTY).isPresent(), "but it would fit when empty");
    }

    @Test
    void differentModelFilesNeverMix() {
        Worker a = worker("a", 0, 3);
        Worker other = worker("other", 3, 6, "b".repeat(64), PodLayout.getDefaultInstance(), 1 << 20);
        assertTrue(plan(10, a, other).isEmpty());
    }

    @Test
    void differentPodLayoutsNeverMix() {
        PodLayout pod = PodLayout.newBuilder().addAllAnchorLayer(List.of(0, 0, 2, 2, 4, 4)).setKvHeads(1).setSinks(16).setWindow(64).build();
        Worker dense = worker("dense", 0, 2);
        Worker pod1 = worker("pod1", 2, 6, HASH, pod, 1 << 20);
        assertTrue(plan(10, dense, pod1).isEmpty(), "a dense stage and a PoD stage");
        Worker pod0 = worker("pod0", 0, 2, HASH, pod, 1 << 20);
        assertEquals(List.of("pod0", "pod1"), ids(plan(10, dense, pod0, pod1).orElseThrow()));
    }

    @Test
    void aStageBoundaryMustNotCutAPodGroup() {
        // groups {0, 1, 2} and {3, 4, 5}: layer 2 borrows the keys of layer 0
        PodLayout pod = PodLayout.newBuilder().addAllAnchorLayer(List.of(0, 0, 0, 3, 3, 3)).setKvHeads(1).build();
        Worker cutting = worker("cutting", 2, 6, HASH, pod, 1 << 20);
        assertNotNull(PipelinePlanner.cutsPodGroup(cutting));
        assertNull(PipelinePlanner.cutsPodGroup(worker("whole-groups", 0, 3, HASH, pod, 1 << 20)));
        Worker head = worker("head", 0, 2, HASH, pod, 1 << 20);
        assertTrue(plan(10, head, cutting).isEmpty(), "[0, 2) + [2, 6) cuts group {0, 1, 2}");
        assertEquals(List.of("a", "b"), ids(plan(10, head, cutting, worker("a", 0, 3, HASH, pod, 1 << 20),
                worker("b", 3, 6, HASH, pod, 1 << 20)).orElseThrow()));
    }

    @Test
    void perKvHeadGroupsAreCheckedHeadByHead() {
        // kv head 0: {0, 1, 2}, {3, 4, 5}; kv head 1: {0}, {1, 2, 3}, {4, 5}
        PodLayout pod = PodLayout.newBuilder().addAllAnchorLayer(List.of(0, 0, 0, 1, 0, 1, 3, 1, 3, 4, 3, 4)).setKvHeads(2).build();
        assertNull(PipelinePlanner.cutsPodGroup(worker("first", 0, 3, HASH, pod, 1 << 20)));
        assertNotNull(PipelinePlanner.cutsPodGroup(worker("cuts-head-1", 3, 6, HASH, pod, 1 << 20)), "layer 3 of kv head 1 borrows from layer 1");
        assertNull(PipelinePlanner.cutsPodGroup(worker("whole", 0, 6, HASH, pod, 1 << 20)));
        assertNotNull(PipelinePlanner.cutsPodGroup(worker("short", 0, 6, HASH, pod.toBuilder().setKvHeads(3).build(), 1 << 20)));
    }

    @Test
    void reservationFollowsTheWorkersFormula() {
        WorkerInfo.Builder info = WorkerInfo.newBuilder().setWorkerId("w").setKvBlockPositions(16).setKvBytesPerPosition(100);
        Worker dense = new Worker(info.build());
        assertEquals(0, dense.kvBytes(0));
        assertEquals(16 * 100, dense.kvBytes(1));
        assertEquals(32 * 100, dense.kvBytes(17));
        // PoD: borrowers keep sinks 4 (one block) and window 40 − 1 = 39 positions (three blocks)
        Worker pod = new Worker(info.setKvProximalBytesPerPosition(10).setKvProximalSinks(4).setKvProximalWindow(40).build());
        assertEquals(16 * 100 + 16 * 10, pod.kvBytes(3));
        assertEquals(16 * 100 + (16 + 16) * 10, pod.kvBytes(5));
        assertEquals(48 * 100 + (16 + 48) * 10, pod.kvBytes(43));
        assertEquals(1008 * 100 + (16 + 48) * 10, pod.kvBytes(1000));
    }

    @Test
    void drainingWorkersTakeNoSession() {
        Worker draining = worker("draining", 0, 6);
        draining.heartbeat(1, true);
        assertTrue(plan(10, draining).isEmpty());
        Worker suspect = worker("suspect", 0, 6);
        suspect.suspect();
        assertTrue(plan(10, suspect).isEmpty());
        suspect.heartbeat(0, false);
        assertTrue(plan(10, suspect).isPresent(), "a heartbeat clears the suspicion");
    }
}
