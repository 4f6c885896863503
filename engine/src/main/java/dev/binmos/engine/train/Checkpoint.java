package dev.binmos.engine.train;

import dev.binmos.engine.format.gguf.BinaryMosGguf;
import dev.binmos.engine.format.gguf.GgufFile;
import dev.binmos.engine.format.gguf.GgufTensorInfo;
import dev.binmos.engine.format.gguf.GgufValueType;
import dev.binmos.engine.format.gguf.GgufWriter;
import dev.binmos.engine.tensor.GgmlType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A training checkpoint as a GGUF file of F32 tensors: for every block linear its latent weights,
 * router, S_in and S_out ({@code blk.N.attn_q.latent}, …) and their AdamW moments (prefixed
 * {@code adam_m.} and {@code adam_v.}), with {@code train.*} metadata: the step, the Adam update count and
 * the options the run must be resumed with. Written to a temporary file and moved into place.
 */
final class Checkpoint {
    private static final String[] SUFFIXES = {".latent", ".router", ".s_in", ".s_out"};
    private static final String STEP = "train.step";
    private static final String UPDATES = "train.adam_updates";
    private static final String FINGERPRINT = "train.options";

    private Checkpoint() {
    }

    static void save(Path file, Student student, AdamW adam, int step, String fingerprint) throws IOException {
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "binmos-train-checkpoint")
                .putUInt32(STEP, step)
                .putUInt32(UPDATES, adam.updates)
                .put(FINGERPRINT, GgufValueType.STRING, fingerprint);
        add(w, "", student);
        add(w, "adam_m.", adam.m);
        add(w, "adam_v.", adam.v);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        w.write(tmp);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Loads the checkpoint into student and adam (shaped already); returns its step. */
    static int load(Path file, Student student, AdamW adam, String fingerprint) throws IOException {
        GgufFile gguf = GgufFile.open(file);
        Object saved = gguf.metadata().get(FINGERPRINT);
        if (!fingerprint.equals(saved)) {
            throw new IllegalArgumentException("checkpoint " + file + " was made with options [" + saved + "], this run has ["
                    + fingerprint + "]: resume with the same options");
        }
        read(gguf, "", student);
        read(gguf, "adam_m.", adam.m);
        read(gguf, "adam_v.", adam.v);
        adam.updates = (int) (long) (Long) gguf.metadata().get(UPDATES);
        return (int) (long) (Long) gguf.metadata().get(STEP);
    }

    private static void add(GgufWriter w, String prefix, Student s) {
        forEach(s, (name, values) -> w.addTensor(prefix + name, GgmlType.F32, new long[] {values.length}, values));
    }

    private static void read(GgufFile gguf, String prefix, Student s) {
        forEach(s, (name, values) -> {
            GgufTensorInfo info = gguf.tensorInfo(prefix + name);
            if (info == null || info.type() != GgmlType.F32 || gguf.tensor(info).size() != values.length) {
                throw new IllegalArgumentException("checkpoint " + gguf.path() + ": tensor " + prefix + name
                        + (info == null ? " is missing" : " does not hold " + values.length + " F32 values"));
            }
            gguf.tensor(info).copyTo(0, values, 0, values.length);
        });
    }

    private static void forEach(Student s, java.util.function.BiConsumer<String, float[]> action) {
        for (int l = 0; l < s.linears.length; l++) {
            for (int i = 0; i < s.linears[l].length; i++) {
                float[][] arrays = s.linears[l][i].arrays();
                for (int k = 0; k < arrays.length; k++) {
                    action.accept(BinaryMosGguf.tensorName(l, Teacher.LINEARS.get(i), SUFFIXES[k]), arrays[k]);
                }
            }
        }
    }

}
