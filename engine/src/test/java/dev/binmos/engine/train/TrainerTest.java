package dev.binmos.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.binarymos.Binarizer;
import dev.binmos.engine.binarymos.BinaryMosLinear;
import dev.binmos.engine.format.LlamaTensors;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.format.Stories260K;
import dev.binmos.engine.kv.KvPolicy;
import dev.binmos.engine.kv.KvPrecision;
import dev.binmos.engine.kv.PodGroups;
import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.kv.PodMode;
import dev.binmos.engine.linear.DenseLinear;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.tensor.GgmlType;
import dev.binmos.engine.util.Parallel;
import dev.binmos.engine.util.ProgressListener;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer's pieces against the inference engine, and the bookkeeping around steps. */
class TrainerTest {
    private static final int[] TOKENS = Stories260K.TOKENS;

    @Test
    void trainingForwardEqualsTheInferenceEngine() {
        Llama model = Stories260K.llama2c();
        TrainOptions options = options(4, 0, null);
        Trainer trainer = new Trainer(model, options, new int[][] {TOKENS}, new Parallel(1));
        perturb(trainer.student(), 3);
        float[] training = new SequencePass(new Teacher(model), 4, TOKENS.length)
                .studentLogits(trainer.student(), trainer.student().signs(), TOKENS, null).clone();
        float[] inference = logits(trainer.studentModel(), TOKENS);
        assertTrue(Stories260K.relativeError(training, inference) < 1e-4, "relative error " + Stories260K.relativeError(training, inference));
    }

    @Test
    void podTrainingForwardEqualsTheInferencePodCache() {
        Llama model = Stories260K.llama2c();
        Trainer trainer = new Trainer(model, options(4, 0, null), new int[][] {TOKENS}, new Parallel(1));
        perturb(trainer.student(), 5);
        int[] tokens = randomSequences(1, 40, model.config().vocabSize(), 6)[0];
        Llama student = trainer.studentModel();
        for (PodMode mode : PodMode.values()) {
            for (String groups : new String[] {"0,1-2,3-4", "0-2,3-4;0,1-4;0-4;0,1,2,3,4"}) {
                PodLayout pod = new PodLayout(3, 5, mode, PodGroups.parse(groups, 5, model.config().kvHeads()));
                float[] training = new SequencePass(new Teacher(model), 4, tokens.length)
                        .studentLogits(trainer.student(), trainer.student().signs(), tokens, pod).clone();
                CpuBackend backend = new CpuBackend(student, new Parallel(1), new KvPolicy.Pod(pod, KvPrecision.F32));
                float[] inference = backend.forwardAll(backend.openSession("pod", tokens.length), tokens, 0);
                double error = Stories260K.relativeError(training, inference);
                assertTrue(error < 1e-4, mode + " " + groups + ": relative error " + error);
                float[] dense = logits(student, tokens);
                assertTrue(Stories260K.relativeError(dense, inference) > 1e-3, "PoD must change the logits of " + groups);
            }
        }
    }

    @Test
    void teacherForwardEqualsTheInferenceEngine() {
        Llama model = Stories260K.llama2c();
        float[] training = new SequencePass(new Teacher(model), 1, TOKENS.length).teacherLogits(TOKENS).clone();
        Stories260K.assertLogitsClose(logits(model, TOKENS), training, "teacher");
    }

    @Test
    void initialStudentIsWhatBinarizeWrites() {
        Llama model = Stories260K.llama2c();
        Student student = Student.init(new Teacher(model), 4, TrainOptions.Init.SVD, 1);
        for (int l = 0; l < model.config().layers(); l++) {
            for (int i = 0; i < 7; i++) {
                LlamaTensors.Part part = Teacher.LINEARS.get(i);
                DenseLinear dense = (DenseLinear) LlamaTensors.linear(model.weights().layers()[l], part);
                BinaryMosLinear expected = Binarizer.binarize(dense.toFloatArray(), dense.outFeatures(), dense.inFeatures(), 4,
                        Binarizer.routerSeed(1, l, part));
                BinaryMosLinear actual = student.packed(l, i);
                assertArrayEquals(expected.signs().unpack(), actual.signs().unpack(), part + " signs");
                assertArrayEquals(expected.router(), actual.router(), part + " router");
                assertArrayEquals(expected.sIn(), actual.sIn(), part + " S_in");
                assertArrayEquals(expected.sOut(), actual.sOut(), part + " S_out");
                assertArrayEquals(dense.toFloatArray(), student.linears[l][i].latent(), part + " latent = W");
            }
        }
    }

    @Test
    void meanAbsInitHasOneScalePerMatrix() {
        Llama model = TinyModel.random(1, 2);
        Student student = Student.init(new Teacher(model), 2, TrainOptions.Init.MEAN_ABS, 1);
        MosWeights q = student.linears[0][0];
        float[] w = ((DenseLinear) model.weights().layers()[0].q()).toFloatArray();
        double mean = 0;
        for (float v : w) {
            mean += Math.abs(v) / w.length;
        }
        for (float s : q.sIn()) {
            assertEquals(1f, s);
        }
        for (float s : q.sOut()) {
            assertEquals(mean, s, 1e-6);
        }
    }

    @Test
    void writtenModelLoadsWithTheTrainedWeights(@TempDir Path dir) throws Exception {
        Llama model = Stories260K.llama2c();
        Trainer trainer = new Trainer(model, options(2, 0, null), new int[][] {TOKENS}, new Parallel(1));
        perturb(trainer.student(), 4);
        Path file = dir.resolve("student.gguf");
        trainer.writeModel(file, "test", GgmlType.F32, ProgressListener.NONE);
        Llama loaded = ModelLoader.load(file, null);
        assertArrayEquals(logits(trainer.studentModel(), TOKENS), logits(loaded, TOKENS), 0f);
    }

    @Test
    void aStudentTrainedWithPodIsServedWithPod(@TempDir Path dir) throws Exception {
        Llama model = Stories260K.llama2c();
        PodLayout pod = new PodLayout(4, 8, PodMode.SHARED_SCORES, PodGroups.parse("0-1,2-4", 5, model.config().kvHeads()));
        Trainer trainer = new Trainer(model, options(2, 0, pod), new int[][] {TOKENS}, new Parallel(1));
        Path file = dir.resolve("student.gguf");
        trainer.writeModel(file, "test", GgmlType.F16, ProgressListener.NONE);
        Llama loaded = ModelLoader.load(file, null);
        assertEquals(new KvPolicy.Pod(pod, KvPrecision.F32), KvPolicy.of(loaded));
        assertEquals(List.of("student.gguf"), java.nio.file.Files.list(dir).map(p -> p.getFileName().toString()).toList());
    }

    @Test
    void resumingFromACheckpointContinuesExactly(@TempDir Path dir) throws Exception {
        Llama model = TinyModel.random(2, 7);
        int[][] data = randomSequences(6, 9, model.config().vocabSize(), 3);
        TrainOptions options = options(2, 6, new PodLayout(1, 3, PodMode.SHARED_KEYS, PodGroups.parse("0-1", 2, 1)));
        Trainer straight = new Trainer(model, options, data, new Parallel(2));
        straight.train(null, 0, TrainListener.NONE);

        Path checkpoint = dir.resolve("run.ckpt");
        Trainer first = new Trainer(model, options, data, new Parallel(2));
        for (int s = 0; s < 3; s++) {
            first.trainStep();
        }
        first.saveCheckpoint(checkpoint);
        Trainer resumed = new Trainer(model, options, data, new Parallel(2));
        resumed.resume(checkpoint);
        assertEquals(3, resumed.step());
        resumed.train(null, 0, TrainListener.NONE);

        List<float[]> expected = straight.student().arrays();
        List<float[]> actual = resumed.student().arrays();
        for (int a = 0; a < expected.size(); a++) {
            assertArrayEquals(expected.get(a), actual.get(a), "array " + a);
        }
        Trainer other = new Trainer(model, options(2, 7, null), data, new Parallel(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> other.resume(checkpoint));
        assertTrue(e.getMessage().contains("same options"), e.getMessage());
    }

    @Test
    void threadsShareTheBatchWithoutChangingTheGradient() {
        Llama model = TinyModel.random(2, 8);
        int[][] data = randomSequences(5, 7, model.config().vocabSize(), 4);
        Trainer one = new Trainer(model, options(3, 3, null), data, new Parallel(1));
        Trainer two = new Trainer(model, options(3, 3, null), data, new Parallel(2));
        double[] lossOne = one.gradient(data, 35);
        double[] lossTwo = two.gradient(data, 35);
        assertArrayEquals(lossOne, lossTwo, 1e-9);
        List<float[]> a = one.grads()[0].arrays();
        List<float[]> b = two.grads()[0].arrays();
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i), 1e-6f, "array " + i);
        }
    }

    @Test
    void cosineScheduleWarmsUpThenDecays() {
        CosineSchedule s = CosineSchedule.of(1.0, 100, 0.03);
        assertEquals(3, s.warmupSteps());
        assertEquals(1 / 3.0, s.lr(0), 1e-12);
        assertEquals(1.0, s.lr(2), 1e-12);
        assertEquals(1.0, s.lr(3), 1e-12);
        assertEquals(0.5, s.lr(3 + 97 / 2) , 0.02);
        assertTrue(s.lr(99) > 0 && s.lr(99) < 1e-3);
    }

    @Test
    void adamWFirstStepMovesEachWeightByTheLearningRate() {
        Student p = Student.init(new Teacher(TinyModel.random(1, 1)), 1, TrainOptions.Init.SVD, 1);
        Student g = p.zerosLike();
        float before = p.linears[0][0].latent()[0];
        g.linears[0][0].latent()[0] = 0.37f;
        g.linears[0][0].latent()[1] = -5f;
        float before1 = p.linears[0][0].latent()[1];
        new AdamW(p).update(p, g, 0.01, 0);
        // bias-corrected first step: m̂/√v̂ = sign(g)
        assertEquals(before - 0.01f, p.linears[0][0].latent()[0], 1e-6);
        assertEquals(before1 + 0.01f, p.linears[0][0].latent()[1], 1e-6);
    }

    private static TrainOptions options(int experts, int steps, PodLayout pod) {
        return new TrainOptions(experts, TrainOptions.Init.SVD, steps, 2, 1e-2, 0.1, 0.01, 1, 10, 1, pod);
    }

    private static int[][] randomSequences(int count, int length, int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[][] data = new int[count][length];
        for (int[] s : data) {
            for (int i = 0; i < length; i++) {
                s[i] = random.nextInt(vocab);
            }
        }
        return data;
    }

    /** Makes every expert and scale different, as training would. */
    static void perturb(Student student, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (MosWeights[] layer : student.linears) {
            for (MosWeights w : layer) {
                for (float[] a : new float[][] {w.router(), w.sIn(), w.sOut()}) {
                    for (int i = 0; i < a.length; i++) {
                        a[i] *= (float) (1 + 0.3 * random.nextGaussian());
                    }
                }
                for (int i = 0; i < w.router().length; i++) {
                    w.router()[i] += (float) random.nextGaussian();
                }
            }
        }
    }

    static float[] logits(Llama model, int[] tokens) {
        CpuBackend backend = new CpuBackend(model, new Parallel(1));
        Session session = backend.openSession("test", tokens.length);
        return backend.forwardAll(session, tokens, 0);
    }
}
