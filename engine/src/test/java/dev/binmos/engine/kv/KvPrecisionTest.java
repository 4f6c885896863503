package dev.binmos.engine.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.backend.CpuBackend;
import dev.binmos.engine.format.Stories260K;
import dev.binmos.engine.generate.Perplexity;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.util.Parallel;
import dev.binmos.engine.util.ProgressListener;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Smaller keys and values cost little: stories260K's perplexity on real text with each storage type. */
class KvPrecisionTest {

    @Test
    void f16AndQ8KeepThePerplexity() throws Exception {
        String text = Files.readString(Path.of(System.getProperty("binmos.shared", "../shared"), "reference/tinystories_sample.txt"));
        Llama model = Stories260K.llama2c();
        try (Parallel parallel = new Parallel(1)) {
            Perplexity.Result f32 = perplexity(model, text, KvPrecision.F32, parallel);
            Perplexity.Result f16 = perplexity(model, text, KvPrecision.F16, parallel);
            Perplexity.Result q8 = perplexity(model, text, KvPrecision.Q8_0, parallel);
            assertEquals(f32.perplexity(), f16.perplexity(), f32.perplexity() * 1e-3, "f16");
            assertEquals(f32.perplexity(), q8.perplexity(), f32.perplexity() * 2e-2, "q8_0");
            assertTrue(q8.perplexity() != f32.perplexity(), "q8_0 really rounds");
            // heads of 8: one F32 scale per 8 bytes, 1.5 bytes a number against F32's 4
            assertEquals(f32.kv().bytes() * 3 / 8, q8.kv().bytes());
            assertEquals(f32.kv().bytes() / 2, f16.kv().bytes());
        }
    }

    private static Perplexity.Result perplexity(Llama model, String text, KvPrecision precision, Parallel parallel) {
        return Perplexity.evaluate(new CpuBackend(model, parallel, new KvPolicy.Dense(precision)), model.tokenizer(), text, 512,
                ProgressListener.NONE);
    }
}
