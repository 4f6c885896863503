package dev.binmos.tests;

import static org.hamcrest.Matchers.blankOrNullString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.generate.Completion;
import dev.binmos.engine.generate.Generation;
import dev.binmos.engine.sampling.SamplingParams;
import dev.binmos.engine.tokenizer.Tokenizer;
import dev.binmos.proto.v1.FinishReason;
import dev.binmos.proto.v1.GenerateRequest;
import dev.binmos.proto.v1.ListModelsRequest;
import dev.binmos.proto.v1.SamplingParameters;
import dev.binmos.proto.v1.TokenIds;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The gateway in front of a router and two workers (layers [0, 2) and [2, 5) of stories260K), over real
 * sockets: gRPC and the OpenAI-compatible REST API give what the single-process engine gives, token for token.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayClusterTest {
    private static final String MODEL = "stories260K";
    private static final String API_KEY = "open-sesame";

    private Cluster cluster;
    private Gateway gateway;
    private Gateway keyed;
    private Reference reference;

    @BeforeAll
    void start() {
        cluster = Cluster.builder("gateway").model(TestModels.stories(), MODEL).worker(0, 2).worker(2, 5).start();
        gateway = cluster.startGateway("gateway");
        keyed = cluster.startGateway("gateway-with-keys", "binmos.gateway.api-keys", "other-key," + API_KEY);
        reference = new Reference(TestModels.stories());
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    private Completion expected(String prompt, Generation generation) {
        return reference.generate(reference.tokenizer().encode(prompt, true, false), generation);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"Once upon a time", "Lily and Ben went to the park"})
    void grpcEqualsTheEngine(String prompt) {
        Streamed streamed = Streamed.call(gateway.generation(), GenerateRequest.newBuilder().setPrompt(prompt).setMaxTokens(150).build());
        Completion expected = expected(prompt, Generation.greedy(150));
        assertArrayEquals(expected.tokens(), streamed.tokenArray(), "tokens");
        assertEquals(expected.text(), streamed.text());
        assertEquals(finishReason(expected), streamed.finished().getReason());
        assertEquals(expected.promptTokens(), streamed.finished().getUsage().getPromptTokens());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"Once upon a time", "The little dog was sad because"})
    void restEqualsTheEngine(String prompt) {
        JsonPath body = gateway.rest().contentType(ContentType.JSON)
                .body(json("prompt", prompt, "max_tokens", 150, "temperature", 0, "logprobs", 0))
                .post("/v1/completions")
                .then().statusCode(200).contentType(ContentType.JSON).extract().jsonPath();
        Completion expected = expected(prompt, Generation.greedy(150));
        assertEquals(expected.text(), body.getString("choices[0].text"));
        assertEquals(pieces(expected.tokens()), body.getList("choices[0].logprobs.tokens"), "one piece per token, in order");
        assertEquals(expected.tokens().length, body.getInt("usage.completion_tokens"));
        assertEquals(expected.promptTokens(), body.getInt("usage.prompt_tokens"));
        assertEquals(expected.promptTokens() + expected.tokens().length, body.getInt("usage.total_tokens"));
        assertEquals(expected.finishReason().name().toLowerCase(), body.getString("choices[0].finish_reason"));
        assertEquals(MODEL, body.getString("model"));
    }

    @Test
    void sseStreamIsFramedAndEqualsTheWholeAnswer() {
        String prompt = "Tom had a red ball";
        String body = gateway.rest().contentType(ContentType.JSON)
                .body(json("prompt", prompt, "max_tokens", 100, "temperature", 0, "stream", true))
                .post("/v1/completions")
                .then().statusCode(200).contentType("text/event-stream").extract().asString();
        List<String> events = events(body);
        assertEquals("data: [DONE]", events.getLast(), "the last event");
        StringBuilder text = new StringBuilder();
        List<JsonPath> chunks = events.subList(0, events.size() - 1).stream().map(e -> JsonPath.from(e.substring(6))).toList();
        for (JsonPath chunk : chunks.subList(0, chunks.size() - 1)) {
            assertNull(chunk.get("choices[0].finish_reason"), "only the last chunk finishes");
            assertNull(chunk.get("usage"), "only the last chunk has usage");
        }
        chunks.forEach(chunk -> text.append(chunk.getString("choices[0].text")));
        Completion expected = expected(prompt, Generation.greedy(100));
        assertEquals(expected.text(), text.toString(), "the chunks make the non-streamed text");
        JsonPath last = chunks.getLast();
        assertEquals(expected.finishReason().name().toLowerCase(), last.getString("choices[0].finish_reason"));
        assertEquals(expected.tokens().length, last.getInt("usage.completion_tokens"));
        assertEquals(expected.promptTokens(), last.getInt("usage.prompt_tokens"));
    }

    @Test
    void chatUsesTheDefaultTemplate() {
        JsonPath body = gateway.rest().contentType(ContentType.JSON)
                .body("""
                        {"model": "stories260K", "max_tokens": 40, "temperature": 0,
                         "messages": [{"role": "user", "content": "Tell me a story about a cat."}]}""")
                .post("/v1/chat/completions")
                .then().statusCode(200).extract().jsonPath();
        // stories260K has no chat template: "Role: content" lines, then "Assistant:", stopping at a user line
        Completion expected = expected("User: Tell me a story about a cat.\nAssistant:",
                new Generation(40, SamplingParams.greedy(), List.of("\nUser:")));
        assertEquals("chat.completion", body.getString("object"));
        assertEquals("assistant", body.getString("choices[0].message.role"));
        assertEquals(expected.text(), body.getString("choices[0].message.content"));
        assertEquals(expected.finishReason().name().toLowerCase(), body.getString("choices[0].finish_reason"));
    }

    @Test
    void modelsAndReadiness() {
        gateway.rest().get("/v1/models").then().statusCode(200)
                .body("object", equalTo("list"))
                .body("data[0].id", equalTo(MODEL))
                .body("data[0].max_model_len", equalTo(512));
        assertEquals(MODEL, gateway.generation().listModels(ListModelsRequest.getDefaultInstance()).getModels(0).getId());
        gateway.rest().get("/q/health/ready").then().statusCode(200).body("checks.name", hasItem("router"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            empty prompt                    | {"prompt": ""}
            negative max tokens             | {"prompt": "Hi", "max_tokens": -1}
            NaN temperature                 | {"prompt": "Hi", "temperature": "NaN"}
            unknown model                   | {"prompt": "Hi", "model": "gpt-9"}
            unknown field                   | {"prompt": "Hi", "temprature": 0.5}
            prompt longer than the context  | LONG
            """)
    void invalidRestRequestIs400(String problem, String body) {
        String request = body.equals("LONG") ? "{\"prompt\": " + longPrompt() + "}" : body;
        String message = gateway.rest().contentType(ContentType.JSON).body(request).post("/v1/completions")
                .then().statusCode(400)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.message", not(blankOrNullString()))
                .extract().path("error.message");
        System.out.printf("REST %s -> %s%n", problem, message);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"NaN temperature", "unknown model", "prompt longer than the context", "empty prompt"})
    void invalidGrpcRequestIsInvalidArgument(String problem) {
        GenerateRequest request = switch (problem) {
            case "NaN temperature" -> GenerateRequest.newBuilder().setPrompt("Hi")
                    .setSampling(SamplingParameters.newBuilder().setTemperature(Float.NaN)).build();
            case "unknown model" -> GenerateRequest.newBuilder().setPrompt("Hi").setModel("gpt-9").build();
            case "prompt longer than the context" -> GenerateRequest.newBuilder()
                    .setTokenIds(TokenIds.newBuilder().addAllIds(Collections.nCopies(600, 300))).build();
            case "empty prompt" -> GenerateRequest.newBuilder().setPrompt("").build();
            default -> throw new IllegalArgumentException(problem);
        };
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> Streamed.call(gateway.generation(), request));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
        System.out.printf("gRPC %s -> %s%n", problem, e.getStatus().getDescription());
    }

    @Test
    void apiKeysWhenConfigured() {
        String body = json("prompt", "Once", "max_tokens", 3);
        keyed.rest().contentType(ContentType.JSON).body(body).post("/v1/completions")
                .then().statusCode(401).body("error.type", equalTo("authentication_error"));
        keyed.rest().contentType(ContentType.JSON).header("Authorization", "Bearer wrong").body(body).post("/v1/completions")
                .then().statusCode(401);
        keyed.rest().contentType(ContentType.JSON).header("Authorization", "Bearer " + API_KEY).body(body).post("/v1/completions")
                .then().statusCode(200).body("usage.completion_tokens", equalTo(3));

        GenerateRequest request = GenerateRequest.newBuilder().setPrompt("Once").setMaxTokens(3).build();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> Streamed.call(keyed.generation(), request));
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
        Metadata key = new Metadata();
        key.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + API_KEY);
        assertEquals(3, Streamed.call(keyed.generation().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(key)), request)
                .finished().getUsage().getCompletionTokens());
    }

    @Test
    void sseClientDisconnectCancelsTheRouterCall() throws Exception {
        String body = json("prompt", "Once upon a time", "max_tokens", 200, "temperature", 0, "stream", true);
        try (Socket socket = new Socket("127.0.0.1", gateway.process().port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            String line = in.readLine();
            while (line != null && !line.startsWith("data: ")) {
                line = in.readLine();
            }
            assertTrue(line != null, "a first event arrived");
        }
        Grpcs.await(() -> gateway.process().logText().contains("generation cancelled api=rest"),
                "the gateway cancelled its router call");
        assertTrue(Metrics.scrape(gateway.process()).lines().stream()
                        .anyMatch(l -> l.startsWith("binmos_gateway_request_success_total{") && l.contains("finished_reason=\"abort\"")),
                "the gateway counted an aborted request");
        // the cancel reaches the router (its grpc-java server passes RST_STREAM on), which frees the session on every stage
        String trace = gateway.process().logText().lines().filter(l -> l.contains("generation cancelled api=rest"))
                .reduce((first, second) -> second).orElseThrow().replaceAll(".* trace=(\\w*) .*", "$1");
        Grpcs.await(() -> cluster.router().logText().lines().anyMatch(l -> l.contains("trace=" + trace) && l.contains("cancelled by the client")),
                "the router cancelled the request of trace " + trace);
    }

    @Test
    void metricsInPrometheusFormat() {
        gateway.rest().contentType(ContentType.JSON).body(json("prompt", "Once", "max_tokens", 5)).post("/v1/completions")
                .then().statusCode(200);
        Metrics metrics = Metrics.scrape(gateway.process());
        assertTrue(metrics.value("binmos_gateway_time_to_first_token_seconds_count", "api", "rest") >= 1);
        assertTrue(metrics.value("binmos_gateway_generation_tokens_total", "api", "rest") >= 5);
        assertTrue(metrics.value("binmos_gateway_e2e_request_latency_seconds_count", "api", "rest") >= 1);
    }

    /** The text of each token, as the router streams it (no stop strings: nothing is held back). */
    private List<String> pieces(int[] tokens) {
        Tokenizer.Decoder decoder = reference.tokenizer().decoder();
        List<String> out = new ArrayList<>();
        for (int token : tokens) {
            out.add(decoder.push(token));
        }
        return out;
    }

    private static FinishReason finishReason(Completion completion) {
        return completion.finishReason() == dev.binmos.engine.generate.FinishReason.STOP
                ? FinishReason.FINISH_REASON_STOP : FinishReason.FINISH_REASON_LENGTH;
    }

    /** 600 token ids: more than stories260K's context of 512. */
    private static String longPrompt() {
        return IntStream.range(0, 600).mapToObj(i -> "300").toList().toString();
    }

    /** A JSON object of key, value pairs (strings quoted, the rest as is). */
    private static String json(Object... pairs) {
        StringBuilder out = new StringBuilder("{");
        for (int i = 0; i < pairs.length; i += 2) {
            Object value = pairs[i + 1];
            out.append(i == 0 ? "" : ", ").append('"').append(pairs[i]).append("\": ")
                    .append(value instanceof String s ? "\"" + s.replace("\"", "\\\"") + "\"" : value);
        }
        return out.append('}').toString();
    }

    /** The events of an SSE body: each {@code data: ...} on one line, then a blank line. */
    private static List<String> events(String body) {
        assertTrue(body.endsWith("\n\n"), "the stream ends with a blank line");
        List<String> events = new ArrayList<>();
        for (String event : body.substring(0, body.length() - 2).split("\n\n", -1)) {
            assertTrue(event.startsWith("data: ") && !event.contains("\n"), "one data line per event: " + event);
            events.add(event);
        }
        return events;
    }
}
