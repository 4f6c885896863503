package dev.binmos.engine.train;

import dev.binmos.engine.backend.Chunk;
import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.backend.Session;
import dev.binmos.engine.generate.Perplexity;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.sampling.Sampler;
import dev.binmos.engine.sampling.SamplingParams;
import dev.binmos.engine.util.Parallel;
import dev.binmos.engine.util.ProgressListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Training and evaluation data drawn from the teacher itself at temperature 1 (the LLM-QAT recipe that
 * OneBit and BinaryMoS follow): no corpus needed, and the student learns exactly the teacher's
 * distribution. Sequence i is drawn with its own seed derived from (seed, i), so a set does not depend on
 * how it was batched, and many sequences run as one batched forward pass per position.
 */
public final class TeacherSamples {
    /** Sequences decoded side by side: enough rows for every weight read to serve many tokens. */
    private static final int BATCH = 64;

    private TeacherSamples() {
    }

    /** {@code count} sequences of exactly {@code length} tokens: BOS, then the teacher's draws (it may start new stories with BOS). */
    public static int[][] sequences(Llama teacher, int count, int length, long seed, Parallel parallel, ProgressListener progress) {
        if (count < 0 || length < 2 || length > teacher.config().contextLength()) {
            throw new IllegalArgumentException("need count >= 0 and a length in [2, " + teacher.config().contextLength() + "], got "
                    + count + " and " + length);
        }
        int[][] out = new int[count][];
        int batches = (count + BATCH - 1) / BATCH;
        AtomicInteger done = new AtomicInteger();
        // one single-threaded backend per thread, each decoding whole batches: for a small model that
        // scales better than splitting every matrix product across threads
        parallel.forRange(batches, 1, (from, to) -> {
            CpuBackend backend = new CpuBackend(teacher, new Parallel(1));
            for (int b = from; b < to; b++) {
                int first = b * BATCH;
                int n = Math.min(BATCH, count - first);
                decode(backend, teacher, out, first, n, length, seed);
                int total = done.addAndGet(n);
                synchronized (progress) {
                    progress.update(total, count);
                }
            }
        });
        return out;
    }

    /** Sequences [first, first + n) of out, decoded side by side. */
    private static void decode(CpuBackend backend, Llama teacher, int[][] out, int first, int n, int length, long seed) {
        int vocab = teacher.config().vocabSize();
        List<Chunk> chunks = new ArrayList<>(n);
        Session[] sessions = new Session[n];
        Sampler[] samplers = new Sampler[n];
        for (int i = 0; i < n; i++) {
            sessions[i] = backend.openSession("sample-" + (first + i), length);
            samplers[i] = new Sampler(new SamplingParams(1f, 0, 1f, 0f, 1f, seedOf(seed, first + i)), vocab);
            out[first + i] = new int[length];
            out[first + i][0] = teacher.tokenizer().bos();
        }
        int[] tokens = new int[n];
        float[] row = new float[vocab];
        float[] x = new float[n * teacher.config().dim()];
        for (int pos = 0; pos + 1 < length; pos++) {
            chunks.clear();
            for (int i = 0; i < n; i++) {
                tokens[i] = out[first + i][pos];
                chunks.add(new Chunk(sessions[i], pos, 1));
            }
            backend.embed(tokens, x);
            backend.forwardLayers(chunks, x, 0, teacher.config().layers());
            float[] logits = backend.logits(x, n, n);
            for (int i = 0; i < n; i++) {
                System.arraycopy(logits, i * vocab, row, 0, vocab);
                out[first + i][pos + 1] = samplers[i].sample(row, null, 0);
            }
        }
    }

    /**
     * {@code count} stories as text, joined by {@value Perplexity#SEPARATOR} for {@link Perplexity}: each is a
     * sequence of at most {@code maxLength} tokens cut where the teacher begins the next story (BOS or EOS).
     */
    public static String stories(Llama teacher, int count, int maxLength, long seed, Parallel parallel, ProgressListener progress) {
        StringBuilder text = new StringBuilder();
        int bos = teacher.tokenizer().bos();
        int eos = teacher.tokenizer().eos();
        for (int[] sequence : sequences(teacher, count, maxLength, seed, parallel, progress)) {
            int end = 1;
            while (end < sequence.length && sequence[end] != bos && sequence[end] != eos) {
                end++;
            }
            String story = teacher.tokenizer().decode(Arrays.copyOfRange(sequence, 1, end)).strip();
            if (!story.isEmpty()) {
                text.append(story).append('\n').append(Perplexity.SEPARATOR).append('\n');
            }
        }
        return text.toString();
    }

    /**
     * As {@link #sequences}, kept in {@code cacheDir} under a name made of the model file, its size and
     * the arguments: a second run with the same arguments reads the same tokens back.
     */
    public static int[][] cached(Path cacheDir, Llama teacher, int count, int length, long seed, Parallel parallel,
                                 ProgressListener progress) {
        Path file = cacheDir.resolve(cacheName(teacher, count, length, seed));
        try {
            if (Files.isRegularFile(file)) {
                return TokenFile.read(file, count, length);
            }
            int[][] sequences = sequences(teacher, count, length, seed, parallel, progress);
            Files.createDirectories(cacheDir);
            TokenFile.write(file, sequences, length);
            return sequences;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use the sample cache " + file + ": " + e.getMessage(), e);
        }
    }

    static String cacheName(Llama teacher, int count, int length, long seed) {
        Path model = teacher.source().path();
        long size;
        try {
            size = Files.isRegularFile(model) ? Files.size(model) : teacher.source().tensorBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return model.getFileName() + "-" + size + "-seed" + seed + "-" + count + "x" + length + ".tokens";
    }

    private static long seedOf(long seed, int index) {
        return new SplittableRandom(seed ^ (index + 1) * 0x9E3779B97F4A7C15L).nextLong();
    }
}
