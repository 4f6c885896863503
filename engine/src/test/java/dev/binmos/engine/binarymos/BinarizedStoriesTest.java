package dev.binmos.engine.binarymos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.format.LlamaTensors;
import dev.binmos.engine.format.LlamaTensors.Part;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.format.Stories260K;
import dev.binmos.engine.format.gguf.BinaryMosGguf;
import dev.binmos.engine.format.gguf.GgufFile;
import dev.binmos.engine.format.gguf.GgufModel;
import dev.binmos.engine.format.gguf.GgufTensorInfo;
import dev.binmos.engine.linear.DenseLinear;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.tensor.GgmlType;
import dev.binmos.engine.util.ProgressListener;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** stories260K binarized to BinaryMoS GGUF: the engine's logits against a scalar forward over the file's own tensors. */
class BinarizedStoriesTest {
    @TempDir
    Path dir;

    @Test
    void fourExpertsMatchTheScalarOracle() throws IOException {
        assertMatchesOracle(binarize(4, "e4.gguf"));
    }

    @Test
    void oneExpertMatchesTheScalarOracle() throws IOException {
        assertMatchesOracle(binarize(1, "e1.gguf"));
    }

    /** Experts that differ and a strong router, so the gates matter (binarize's experts are identical). */
    @Test
    void distinctExpertsMatchTheScalarOracle() throws IOException {
        Llama base = Stories260K.llama2c();
        Path file = dir.resolve("mixed.gguf");
        BinaryMosGguf.write(base, 3, (layer, part) -> {
            DenseLinear dense = (DenseLinear) LlamaTensors.linear(base.weights().layers()[layer], part);
            int out = dense.outFeatures();
            int in = dense.inFeatures();
            BinaryMosLinear init = Binarizer.binarize(dense.toFloatArray(), out, in, 3, layer * 10L + part.ordinal());
            SplittableRandom r = new SplittableRandom(layer * 100L + part.ordinal());
            float[] router = init.router().clone();
            float[] sIn = init.sIn().clone();
            float[] sOut = init.sOut().clone();
            for (int i = 0; i < router.length; i++) {
                router[i] *= 8;
                sIn[i] *= (float) r.nextDouble(-0.5, 1.5);
            }
            for (int i = 0; i < sOut.length; i++) {
                sOut[i] *= (float) r.nextDouble(0.2, 1.8);
            }
            return new BinaryMosLinear(init.signs(), router, sIn, sOut, 3);
        }, "mixed", GgmlType.F32, file, ProgressListener.NONE);
        assertMatchesOracle(file);
    }

    @Test
    void initialFourExpertModelEqualsTheSingleScaleModel() throws IOException {
        float[] single = Stories260K.logits(ModelLoader.load(binarize(1, "e1.gguf"), null));
        float[] mixture = Stories260K.logits(ModelLoader.load(binarize(4, "e4.gguf"), null));
        Stories260K.assertLogitsClose(single, mixture, "E=4 initial model against E=1");
    }

    @Test
    void filesKeepTheSourcePrecisionAndAnnounceTheFormat() throws IOException {
        Path file = binarize(4, "e4.gguf");
        GgufFile gguf = GgufFile.open(file);
        assertEquals("llama", gguf.metadata().get("general.architecture"));
        assertEquals(4L, gguf.metadata().get(BinaryMosGguf.EXPERTS_KEY));
        assertEquals(BinaryMosGguf.BIT_ORDER, gguf.metadata().get(BinaryMosGguf.BIT_ORDER_KEY));
        assertEquals(GgmlType.F32, gguf.tensorInfo(GgufModel.embeddingsName()).type());
        assertEquals(null, gguf.tensorInfo(GgufModel.classifierName()), "stories260K shares its classifier");
        GgufTensorInfo down = gguf.tensorInfo("blk.0.ffn_down.signs");
        assertEquals(GgmlType.I8, down.type());
        assertEquals(172, (int) gguf.tensorInfo("blk.0.ffn_down.s_in").shape()[1]);
        assertEquals(64 * 24, down.byteSize(), "64 rows of 172 columns padded to 192 bits");
        Llama model = ModelLoader.load(file, null);
        assertInstanceOf(BinaryMosLinear.class, model.weights().layers()[4].down());
        BinaryMosGguf.LinearSize size = BinaryMosGguf.linearSize(model.source().tensors());
        assertTrue(size.signBitsPerWeight() > 1 && size.signBitsPerWeight() < 1.1, "signs " + size.signBitsPerWeight());
    }

    private Path binarize(int experts, String name) throws IOException {
        Path file = dir.resolve(name);
        Binarizer.write(Stories260K.llama2c(), experts, 7, name, GgmlType.F32, file, ProgressListener.NONE);
        return file;
    }

    private static void assertMatchesOracle(Path file) throws IOException {
        Llama model = ModelLoader.load(file, null);
        float[] expected = oracle(GgufFile.open(file), model.config()).logits(Stories260K.TOKENS);
        float[] actual = Stories260K.logits(model);
        double error = Stories260K.relativeError(actual, expected);
        assertTrue(error <= 1e-3, "relative logit error " + error);
    }

    /** The forward pass straight from the file: signs unpacked bit by bit as docs/FORMAT.md describes them. */
    private static ScalarLlama oracle(GgufFile gguf, Configuration c) {
        int experts = (int) (long) (Long) gguf.metadata().get(BinaryMosGguf.EXPERTS_KEY);
        float[][] attnNorm = new float[c.layers()][];
        float[][] ffnNorm = new float[c.layers()][];
        ScalarLlama.Block[] blocks = new ScalarLlama.Block[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            attnNorm[l] = gguf.tensor(GgufModel.tensorName(l, Part.ATTN_NORM)).toFloatArray();
            ffnNorm[l] = gguf.tensor(GgufModel.tensorName(l, Part.FFN_NORM)).toFloatArray();
            ScalarLlama.Lin[] linears = new ScalarLlama.Lin[7];
            for (int i = 0; i < 7; i++) {
                String base = GgufModel.blockName(l, Part.linears().get(i));
                float[] sIn = gguf.tensor(base + ".s_in").toFloatArray();
                float[] sOut = gguf.tensor(base + ".s_out").toFloatArray();
                int in = sIn.length / experts;
                int out = sOut.length / experts;
                linears[i] = ScalarLlama.binaryMos(unpack(gguf, base + ".signs", out, in),
                        gguf.tensor(base + ".router").toFloatArray(), sIn, sOut, experts, out, in);
            }
            blocks[l] = i -> linears[i];
        }
        float[] embeddings = gguf.tensor(GgufModel.embeddingsName()).toFloatArray();
        return new ScalarLlama(c, embeddings, attnNorm, ffnNorm, gguf.tensor(GgufModel.finalNormName()).toFloatArray(),
                blocks, embeddings, false);
    }

    /** Column c of row o: bit c % 8 of byte c / 8 of the row's ⌈in/64⌉·8 bytes; 1 = −1. */
    private static float[] unpack(GgufFile gguf, String name, int out, int in) {
        MemorySegment bytes = gguf.bytes(gguf.tensorInfo(name));
        int rowBytes = (in + 63) / 64 * 8;
        assertEquals((long) out * rowBytes, bytes.byteSize(), name);
        float[] signs = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                byte b = bytes.get(ValueLayout.JAVA_BYTE, (long) o * rowBytes + i / 8);
                signs[o * in + i] = (b >> (i % 8) & 1) == 1 ? -1 : 1;
            }
        }
        return signs;
    }
}
