package dev.binmos.engine.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.TestData;
import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Parallel;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PodCalibrationTest {
    /** 4 layers, 4 query heads on 2 kv heads. */
    private static final Configuration C = new Configuration(16, 16, 4, 4, 2, 8, 64, 10000f, 1e-5f);

    @Test
    void jensenShannonInBits() {
        float[] a = {0.5f, 0.5f, 0f, 0f};
        assertEquals(0, PodCalibration.jsd(a, a), 0);
        assertEquals(1, PodCalibration.jsd(a, new float[] {0f, 0f, 0.25f, 0.75f}), 1e-12);
        // p = (1, 0), q = (1/2, 1/2): ½·log2(4/3) + ¼·log2(2/3) + ¼·log2(2)
        double expected = 0.5 * Math.log(4.0 / 3) / Math.log(2) + 0.25 * Math.log(2.0 / 3) / Math.log(2) + 0.25;
        assertEquals(expected, PodCalibration.jsd(new float[] {1f, 0f}, new float[] {0.5f, 0.5f}), 1e-7);
    }

    /** Distributions of 3 probe positions over 6 positions, per [layer][head]: a peak at position peak[layer][head]. */
    private static float[][][][] peaked(int[][] peak) {
        float[][][][] d = new float[C.layers()][C.heads()][3][];
        for (int l = 0; l < C.layers(); l++) {
            for (int h = 0; h < C.heads(); h++) {
                for (int p = 0; p < 3; p++) {
                    d[l][h][p] = new float[4 + p];
                    Arrays.fill(d[l][h][p], 0.05f / (3 + p));
                    d[l][h][p][peak[l][h]] = 0.95f;
                }
            }
        }
        return d;
    }

    @Test
    void identicalLayersMergeAndDissimilarOnesSplit() {
        // kv head 0 (heads 0, 1): layers 0-1 alike, 2 differs, 3 like 2; kv head 1 (heads 2, 3): all alike
        int[][] peak = {{0, 0, 1, 1}, {0, 0, 1, 1}, {3, 3, 1, 1}, {3, 3, 1, 1}};
        PodCalibration perKvHead = new PodCalibration(C, PodCalibration.Granularity.KV_HEAD, 3);
        perKvHead.add(peaked(peak));
        double[][] s = perKvHead.similarity();
        assertEquals(1, s[0][0], 1e-9);
        assertTrue(s[0][1] < 0.5, "layer 2 differs from layer 1: " + s[0][1]);
        assertEquals(1, s[1][1], 1e-9);
        assertEquals("0-1,2-3;0-3", perKvHead.groups(0.5).toString());
        assertEquals("0,1,2,3;0,1,2,3", perKvHead.groups(1.01).toString(), "nothing merges above similarity 1");

        PodCalibration perLayer = new PodCalibration(C, PodCalibration.Granularity.LAYER, 3);
        perLayer.add(peaked(peak));
        assertEquals((s[0][1] + s[1][1]) / 2, perLayer.similarity()[0][1], 1e-9);
        assertEquals("0-3", perLayer.groups(0.5).toString(), "half the heads alike: similarity above 0.5");
        assertEquals("0-1,2-3", perLayer.groups(0.9).toString());
    }

    @Test
    void forcedAnchorsAreRespected() {
        int[][] allAlike = new int[4][4];
        PodCalibration calibration = new PodCalibration(C, PodCalibration.Granularity.KV_HEAD, 3);
        calibration.add(peaked(allAlike));
        assertEquals("0-3;0-3", calibration.groups(0.5).toString());
        assertEquals("0,1-3;0,1-3", calibration.groups(0.5, 1).toString());
        assertEquals("0-1,2,3;0-1,2,3", calibration.groups(0.5, 2, 3).toString());
    }

    @Test
    void calibratesARealModelFromItsAttention() {
        Llama model = ModelLoader.load(TestData.shared("models/stories260K.bin"), null);
        int[] tokens = model.tokenizer().encode("Once upon a time, there was a little girl named Lily. She loved to play outside.", true, false);
        try (CpuBackend backend = new CpuBackend(model, new Parallel(1))) {
            PodCalibration calibration = new PodCalibration(model.config(), PodCalibration.Granularity.KV_HEAD, 4);
            calibration.add(backend, tokens);
            double[][] s = calibration.similarity();
            assertEquals(4, s.length);
            for (double[] unit : s) {
                assertEquals(4, unit.length);
                for (double v : unit) {
                    assertTrue(v >= 0 && v <= 1, "similarity " + v);
                }
            }
            assertEquals("0,1,2,3,4;0,1,2,3,4;0,1,2,3,4;0,1,2,3,4", calibration.groups(1.01).toString());
            assertEquals("0-4;0-4;0-4;0-4", calibration.groups(0).toString());
        }
    }
}
