package dev.binmos.cli;

import dev.binmos.engine.binarymos.Binarizer;
import dev.binmos.engine.format.ModelLoader;
import dev.binmos.engine.format.gguf.BinaryMosGguf;
import dev.binmos.engine.format.safetensors.SafetensorsModel;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.tensor.GgmlType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "binarize", mixinStandardHelpOptions = true,
        description = {"Writes a BinaryMoS GGUF (docs/FORMAT.md): from a full-precision model (signs of W, every expert "
                + "initialised from the rank-1 SVD of |W|, as the paper's training starts), or from an official BinaryMoS checkpoint."})
final class BinarizeCommand implements Callable<Integer> {

    static final class Source {
        @Option(names = "--from", required = true, description = "Full-precision model: GGUF, llama2.c checkpoint or Hugging Face directory.")
        Path from;

        @Option(names = "--from-hf", required = true, description = "Official BinaryMoS checkpoint directory (config.json with num_expert + safetensors).")
        Path fromHf;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--experts", description = "Experts per linear for --from (default: 4; --from-hf takes the checkpoint's).")
    Integer experts;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random routers for --from (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--scale-type", description = "Storage of routers and scales: f32, f16 or bf16 (default: f32 for --from, f16 for --from-hf).")
    String scaleType;

    @Option(names = "--tokenizer", description = "llama2.c tokenizer file (default: the source model's own).")
    Path tokenizer;

    @Option(names = "--out", required = true, description = "GGUF file to write.")
    Path out;

    @Override
    public Integer call() throws IOException {
        boolean hf = source.fromHf != null;
        Llama model = hf ? SafetensorsModel.loadBinaryMos(source.fromHf, tokenizer) : ModelLoader.load(source.from, tokenizer);
        Path from = hf ? source.fromHf : source.from;
        String name = from.toAbsolutePath().normalize().getFileName().toString().replaceFirst("\\.(gguf|bin)$", "");
        GgmlType scales = scaleType(hf ? GgmlType.F16 : GgmlType.F32);
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path partial = parent.resolve(out.getFileName() + ".partial");
        if (hf && experts != null) {
            throw new IllegalArgumentException("--experts is for --from; a checkpoint has its own (num_expert)");
        }
        try (Progress progress = new Progress("binarize", "linears")) {
            if (hf) {
                Binarizer.writeBinaryMos(model, name + "-binarymos", scales, partial, progress);
            } else {
                int e = experts == null ? 4 : experts;
                Binarizer.write(model, e, seed, name + "-binarymos-e" + e, scales, partial, progress);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(partial);
            throw e;
        }
        Files.move(partial, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Llama written = ModelLoader.load(out, tokenizer);
        BinaryMosGguf.LinearSize size = BinaryMosGguf.linearSize(written.source().tensors());
        System.out.printf(Locale.ROOT, "wrote %s: %s experts, linears %.4f bits per weight (signs %.4f + routers and scales %.4f), file %s%n",
                out, written.source().metadata().get(BinaryMosGguf.EXPERTS_KEY), size.bitsPerWeight(), size.signBitsPerWeight(),
                size.bitsPerWeight() - size.signBitsPerWeight(), InspectCommand.bytes(Files.size(out)));
        return 0;
    }

    private GgmlType scaleType(GgmlType fallback) {
        if (scaleType == null) {
            return fallback;
        }
        return switch (scaleType.toLowerCase(Locale.ROOT)) {
            case "f32" -> GgmlType.F32;
            case "f16" -> GgmlType.F16;
            case "bf16" -> GgmlType.BF16;
            default -> throw new IllegalArgumentException("unknown --scale-type " + scaleType + "; choose f32, f16 or bf16");
        };
    }
}
