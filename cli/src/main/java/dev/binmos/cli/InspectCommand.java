package dev.binmos.cli;

import dev.binmos.engine.format.gguf.BinaryMosGguf;
import dev.binmos.engine.model.Configuration;
import dev.binmos.engine.model.Llama;
import dev.binmos.engine.model.TensorEntry;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "inspect", mixinStandardHelpOptions = true, description = "Prints a model's architecture and its tensors with types and sizes.")
final class InspectCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Override
    public Integer call() {
        Llama model = modelOptions.load();
        Configuration c = model.config();
        System.out.printf("model        %s (%s)%n", model.source().path(), model.source().format());
        System.out.printf("architecture llama: dim %d, hidden %d, layers %d, heads %d, kv heads %d, head size %d%n",
                c.dim(), c.hiddenDim(), c.layers(), c.heads(), c.kvHeads(), c.headSize());
        System.out.printf("             vocab %d, context %d, rope theta %s, norm eps %s%n",
                c.vocabSize(), c.contextLength(), c.ropeTheta(), c.normEps());
        System.out.printf("tokenizer    %d tokens, bos %d, eos %d%n", model.tokenizer().vocabSize(), model.tokenizer().bos(), model.tokenizer().eos());
        System.out.printf("tensors      %d, %s%n", model.source().tensors().size(), bytes(model.source().tensorBytes()));
        BinaryMosGguf.LinearSize binaryMos = BinaryMosGguf.linearSize(model.source().tensors());
        if (binaryMos.weights() > 0) {
            System.out.printf(Locale.ROOT, "binarymos    %s experts, %d linear weights at %.4f bits per weight (signs %.4f + routers and scales %.4f)%n",
                    model.source().metadata().get(BinaryMosGguf.EXPERTS_KEY), binaryMos.weights(), binaryMos.bitsPerWeight(),
                    binaryMos.signBitsPerWeight(), binaryMos.bitsPerWeight() - binaryMos.signBitsPerWeight());
        }
        int width = model.source().tensors().stream().mapToInt(t -> t.name().length()).max().orElse(4);
        for (TensorEntry t : model.source().tensors()) {
            String shape = Arrays.stream(t.shape()).mapToObj(Long::toString).collect(Collectors.joining(" x "));
            System.out.printf("  %-" + width + "s  %-5s  %-18s %s%n", t.name(), t.type(), shape, bytes(t.bytes()));
        }
        return 0;
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.2f %s (%d B)", v, units[u], n);
    }
}
