package dev.binmos.engine.train;

import dev.binmos.engine.format.LlamaTensors.Part;
import dev.binmos.engine.format.gguf.BinaryMosGguf;
import dev.binmos.engine.format.gguf.GgufEdit;
import dev.binmos.engine.format.gguf.GgufWriter;
import dev.binmos.engine.kv.PodLayout;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.tensor.GgmlType;
import dev.binmos.engine.util.Parallel;
import dev.binmos.engine.util.ProgressListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * BinaryMoS knowledge distillation (Jo et al., 2024): a student initialised from the full-precision
 * teacher as {@code binmos binarize} does, trained on KL(teacher ‖ student) + λ · Σ_layers MSE(hidden
 * states) with AdamW, a cosine schedule with warm-up and global-norm clipping. As in the paper's
 * trainer, the KL is summed over a sequence's positions and averaged over the batch's sequences
 * ("batchmean"); each MSE is a mean over elements. Latent weights, routers, S_in and S_out train;
 * embeddings, norms and the classifier stay the teacher's. The sequences of a batch are split across
 * the threads, each with its own buffers and gradient, summed before the update.
 */
public final class Trainer {
    private final Llama model;
    private final Teacher teacher;
    private final TrainOptions options;
    private final int[][] data;
    private final Parallel parallel;
    private final Student student;
    private final AdamW adam;
    private final CosineSchedule schedule;
    private final SequencePass[] passes;
    private final Student[] grads;
    private final Epochs epochs;
    private int step;

    /**
     * @param data training sequences (each at most the model's context long); batches walk them in a
     *             fresh seeded order every epoch. Empty only for a run of 0 steps (the initial student).
     */
    public Trainer(Llama model, TrainOptions options, int[][] data, Parallel parallel) {
        if (data.length == 0 && options.steps() > 0) {
            throw new IllegalArgumentException("no training sequences");
        }
        PodLayout pod = options.pod();
        if (pod != null && (pod.groups().layers() != model.config().layers() || pod.groups().kvHeads() != model.config().kvHeads())) {
            throw new IllegalArgumentException("PoD groups for " + pod.groups().layers() + " layers and " + pod.groups().kvHeads()
                    + " kv heads do not fit the model's " + model.config().layers() + " layers and " + model.config().kvHeads() + " kv heads");
        }
        this.model = model;
        this.teacher = new Teacher(model);
        this.options = options;
        this.data = data;
        this.epochs = new Epochs(data, options.seed());
        this.parallel = parallel;
        this.student = Student.init(teacher, options.experts(), options.init(), options.seed());
        this.adam = new AdamW(student);
        this.schedule = CosineSchedule.of(options.lr(), options.steps(), options.warmup());
        int longest = 1;
        for (int[] sequence : data) {
            longest = Math.max(longest, sequence.length);
        }
        passes = new SequencePass[parallel.threads()];
        grads = new Student[parallel.threads()];
        for (int w = 0; w < passes.length; w++) {
            passes[w] = new SequencePass(teacher, options.experts(), longest);
            grads[w] = student.zerosLike();
        }
    }

    /** Steps done so far. */
    public int step() {
        return step;
    }

    /** The student being trained (its arrays change with every step). */
    public Student student() {
        return student;
    }

    /** Runs the remaining steps; saves a checkpoint every {@code checkpointEvery} steps (0: never) and after the last. */
    public void train(Path checkpoint, int checkpointEvery, TrainListener listener) {
        while (step < options.steps()) {
            StepStats stats = trainStep();
            listener.stepDone(step, options.steps(), stats);
            if (checkpoint != null && (step == options.steps() || checkpointEvery > 0 && step % checkpointEvery == 0)) {
                try {
                    saveCheckpoint(checkpoint);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write checkpoint " + checkpoint + ": " + e.getMessage(), e);
                }
            }
        }
    }

    /** One optimizer step over the next batch. */
    public StepStats trainStep() {
        long start = System.nanoTime();
        int[][] batch = epochs.batch(step, options.batch());
        long tokens = 0;
        for (int[] sequence : batch) {
            tokens += sequence.length;
        }
        double[] losses = gradient(batch, tokens);
        Student grad = grads[0];
        double norm = clip(grad);
        double lr = schedule.lr(step);
        adam.update(student, grad, lr, options.weightDecay());
        step++;
        double mse = losses[1] / ((double) tokens * teacher.config.dim());
        double loss = losses[0] / batch.length + options.lambda() * mse;
        return new StepStats(losses[0] / tokens, mse, loss, norm, lr, tokens, (System.nanoTime() - start) / 1e9);
    }

    /**
     * The batch's gradient into grads[0], the straight-through clip applied; returns the summed KL and
     * squared error. Each worker adds its share of the sequences into its own gradient, summed at the end.
     */
    double[] gradient(int[][] batch, long tokens) {
        Signs[][] signs = student.signs();
        int workers = passes.length;
        double[] kl = new double[workers];
        double[] squaredError = new double[workers];
        parallel.forRange(workers, 1, (from, to) -> {
            for (int w = from; w < to; w++) {
                zero(grads[w]);
                for (int j = w; j < batch.length; j += workers) {
                    SequencePass.Losses losses = passes[w].train(student, signs, batch[j], options.pod(), batch.length,
                            (double) tokens * teacher.config.dim(), options.lambda(), grads[w]);
                    kl[w] += losses.kl();
                    squaredError[w] += losses.squaredError();
                }
            }
        });
        Student grad = grads[0];
        for (int w = 1; w < workers; w++) {
            List<float[]> from = grads[w].arrays();
            List<float[]> to = grad.arrays();
            for (int a = 0; a < to.size(); a++) {
                Vec.add(from.get(a), to.get(a), to.get(a).length);
            }
        }
        for (int l = 0; l < student.linears.length; l++) {
            for (int i = 0; i < student.linears[l].length; i++) {
                MosLinear.clipStraightThrough(student.linears[l][i].latent(), grad.linears[l][i].latent());
            }
        }
        return new double[] {sum(kl), sum(squaredError)};
    }

    /** Per-worker gradients; the first holds the batch's after {@link #gradient}. */
    Student[] grads() {
        return grads;
    }

    /** Scales the gradient down to the clip norm when above it; returns the norm before. */
    private double clip(Student grad) {
        double sq = 0;
        for (float[] a : grad.arrays()) {
            for (float g : a) {
                sq += (double) g * g;
            }
        }
        double norm = Math.sqrt(sq);
        if (options.clipNorm() > 0 && norm > options.clipNorm()) {
            float scale = (float) (options.clipNorm() / norm);
            for (float[] a : grad.arrays()) {
                for (int i = 0; i < a.length; i++) {
                    a[i] *= scale;
                }
            }
        }
        return norm;
    }

    public void saveCheckpoint(Path file) throws IOException {
        Checkpoint.save(file, student, adam, step, fingerprint());
    }

    /** Continues from a checkpoint saved by a run with the same options and data. */
    public void resume(Path file) throws IOException {
        step = Checkpoint.load(file, student, adam, fingerprint());
    }

    private String fingerprint() {
        return options.fingerprint() + ", data " + data.length + " sequences #" + Integer.toHexString(java.util.Arrays.deepHashCode(data));
    }

    /** The student as an inference model (packed signs, copies of routers and scales), sharing the teacher's other weights. */
    public Llama studentModel() {
        return student.toLlama(model);
    }

    /**
     * Writes the student as a BinaryMoS GGUF (the format {@code binmos binarize} writes); a student trained
     * with PoD also gets the layout as {@code pod.*} metadata, so the engine serves it with PoD by default.
     */
    public void writeModel(Path file, String name, GgmlType scaleType, ProgressListener progress) throws IOException {
        PodLayout pod = options.pod();
        Path plain = pod == null ? file : file.resolveSibling(file.getFileName() + ".nopod");
        BinaryMosGguf.write(model, options.experts(), (layer, part) -> student.packed(layer, Part.linears().indexOf(part)),
                name, scaleType, plain, progress);
        if (pod != null) {
            GgufWriter metadata = new GgufWriter();
            pod.metadata().forEach((key, value) -> {
                if (value instanceof Long n) {
                    metadata.putUInt32(key, n);
                } else {
                    metadata.putString(key, (String) value);
                }
            });
            GgufEdit.withMetadata(plain, metadata, file);
            Files.delete(plain);
        }
    }

    private static void zero(Student s) {
        for (float[] a : s.arrays()) {
            java.util.Arrays.fill(a, 0f);
        }
    }

    private static double sum(double[] values) {
        double s = 0;
        for (double v : values) {
            s += v;
        }
        return s;
    }
}
