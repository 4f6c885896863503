package dev.binmos.engine.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.format.Stories260K;
import dev.binmos.engine.generate.Perplexity;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Parallel;
import dev.binmos.engine.util.ProgressListener;
import org.junit.jupiter.api.Test;

/** A short real run on stories260K: the loss falls and the student beats its SVD initialisation on held-out text. */
class DistillationRunTest {

    @Test
    void shortRunLowersTheLossAndThePerplexity() {
        Llama model = Stories260K.llama2c();
        try (Parallel parallel = new Parallel(2)) {
            int[][] data = TeacherSamples.sequences(model, 32, 128, 1, parallel, ProgressListener.NONE);
            String heldOut = TeacherSamples.stories(model, 16, 256, 99, parallel, ProgressListener.NONE);
            int steps = 60;
            TrainOptions options = new TrainOptions(4, TrainOptions.Init.SVD, steps, 4, TrainOptions.DEFAULT_LR, 0.03, 0, 1, 10, 1, null);
            Trainer trainer = new Trainer(model, options, data, parallel);
            double initial = perplexity(trainer.studentModel(), heldOut, parallel);
            double first = 0;
            double last = 0;
            for (int s = 0; s < steps; s++) {
                double loss = trainer.trainStep().loss();
                first += s < 5 ? loss / 5 : 0;
                last += s >= steps - 5 ? loss / 5 : 0;
            }
            double trained = perplexity(trainer.studentModel(), heldOut, parallel);
            assertTrue(last < 0.7 * first, "mean loss of the first 5 steps " + first + ", of the last 5 " + last);
            assertTrue(trained < initial / 4, "held-out perplexity " + initial + " at initialisation, " + trained + " trained");
        }
    }

    private static double perplexity(Llama student, String text, Parallel parallel) {
        return Perplexity.evaluate(new CpuBackend(student, parallel), student.tokenizer(), text, 256, ProgressListener.NONE).perplexity();
    }
}
