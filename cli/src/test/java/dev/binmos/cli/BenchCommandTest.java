package dev.binmos.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.util.Json;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code binmos bench} on stories260K: every figure present and consistent, bytes per token from the closed form. */
class BenchCommandTest {
    private static final String MODEL = System.getProperty("binmos.shared", "../shared") + "/models/stories260K.bin";

    @Test
    void reportsSpeedsMemoryAndBandwidth() {
        CliTest.Run r = CliTest.run("bench", "--model", MODEL, "--threads", "1", "--prompt-tokens", "64", "--gen-tokens", "32",
                "--bandwidth-mib", "64", "--json");
        assertEquals(0, r.exit(), r.err());
        Map<String, Object> json = Json.parseObject(r.out().strip());
        // dim 64, kv dim 32, hidden 172, 5 layers, vocab 512, classifier shared with the embeddings, all F32:
        // per layer q, o 64·64, k, v 32·64, gate, up, down 172·64 weights and two norms of 64; one embedding row; final norm
        long perLayer = 4L * (2 * 64 * 64 + 2 * 32 * 64 + 3 * 172 * 64 + 2 * 64);
        assertEquals(5 * perLayer + 4L * 512 * 64 + 4 * 64 + 4 * 64, ((Number) json.get("weight_bytes_per_token")).longValue());
        // dense F32 cache, 5 layers × (k + v) × 32 floats per position, blocks of 16 positions: between 64 and 96 positions held
        long kv = ((Number) json.get("kv_bytes_per_token")).longValue();
        long perPosition = 5L * 2 * 32 * 4;
        assertTrue(kv >= 64 * perPosition && kv <= 96 * perPosition, "kv bytes per token " + kv);
        double decode = ((Number) json.get("decode_tokens_per_s")).doubleValue();
        double prefill = ((Number) json.get("prefill_tokens_per_s")).doubleValue();
        assertTrue(decode > 0 && prefill > 0, r.out());
        double ttft = ((Number) json.get("time_to_first_token_s")).doubleValue();
        assertTrue(ttft >= 64 / prefill * 0.999, "the first token comes after the prefill: " + r.out());
        double bandwidth = ((Number) json.get("read_bandwidth_bytes_per_s")).doubleValue();
        double limit = ((Number) json.get("bandwidth_limit_tokens_per_s")).doubleValue();
        assertEquals(bandwidth / (((Number) json.get("weight_bytes_per_token")).longValue() + kv), limit, limit * 1e-9);
        assertEquals(decode / limit, ((Number) json.get("fraction_of_limit")).doubleValue(), 1e-9);
        // a JVM with a model mapped holds more than 1 MB and less than the machine
        long rss = ((Number) json.get("peak_rss_bytes")).longValue();
        assertTrue(rss > (1 << 20) && rss < Runtime.getRuntime().maxMemory() + (8L << 30), "peak rss " + rss);
    }

    /** In turns, the same prefill (three chunks: 64, 64, 2 tokens) and the same decode steps over the same cache. */
    @Test
    void interleavedTimesTheSameWork() {
        String[] args = {"bench", "--model", MODEL, "--threads", "1", "--prompt-tokens", "130", "--gen-tokens", "20", "--bandwidth-mib", "0", "--json"};
        CliTest.Run sequential = CliTest.run(args);
        String[] turns = java.util.Arrays.copyOf(args, args.length + 1);
        turns[args.length] = "--interleave";
        CliTest.Run interleaved = CliTest.run(turns);
        assertEquals(0, sequential.exit(), sequential.err());
        assertEquals(0, interleaved.exit(), interleaved.err());
        Map<String, Object> a = Json.parseObject(sequential.out().strip());
        Map<String, Object> b = Json.parseObject(interleaved.out().strip());
        assertEquals(false, a.get("interleaved"));
        assertEquals(true, b.get("interleaved"));
        assertEquals(a.get("weight_bytes_per_token"), b.get("weight_bytes_per_token"));
        assertEquals(a.get("kv_bytes_per_token"), b.get("kv_bytes_per_token"), "the decode steps read the same cache");
        assertTrue(((Number) b.get("prefill_tokens_per_s")).doubleValue() > 0 && ((Number) b.get("decode_tokens_per_s")).doubleValue() > 0,
                interleaved.out());
    }

    @Test
    void tooLongForTheContextIsAClearError() {
        CliTest.Run r = CliTest.run("bench", "--model", MODEL, "--prompt-tokens", "500", "--gen-tokens", "100");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("the model's context is 512"), r.err());
    }
}
