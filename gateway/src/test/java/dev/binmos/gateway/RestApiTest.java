package dev.binmos.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.blankOrNullString;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.proto.v1.GenerateRequest;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The OpenAI-compatible REST API against {@link FakeRouter}: shapes, SSE framing, validation, error mapping. */
@QuarkusTest
@WithTestResource(FakeRouter.class)
class RestApiTest {

    @Test
    void completionAnswersOneJsonBody() {
        given().contentType(ContentType.JSON)
                .body("{\"prompt\": \"Once\", \"max_tokens\": 5, \"temperature\": 0, \"stop\": \"\\n\", \"seed\": 7}")
                .post("/v1/completions")
                .then().statusCode(200)
                .contentType(ContentType.JSON)
                .header("X-Request-Id", not(blankOrNullString()))
                .body("object", equalTo("text_completion"))
                .body("id", startsWith("cmpl-"))
                .body("model", equalTo(FakeRouter.MODEL))
                .body("choices[0].text", equalTo("Hello world!"))
                .body("choices[0].finish_reason", equalTo("stop"))
                .body("choices[0].logprobs", nullValue())
                .body("usage.prompt_tokens", equalTo(4))
                .body("usage.completion_tokens", equalTo(3))
                .body("usage.total_tokens", equalTo(7));
        GenerateRequest sent = FakeRouter.lastRequest.get();
        assertEquals(FakeRouter.MODEL, sent.getModel());
        assertEquals("Once", sent.getPrompt());
        assertEquals(5, sent.getMaxTokens());
        assertEquals(0f, sent.getSampling().getTemperature());
        assertEquals(7L, sent.getSampling().getSeed());
        assertEquals(List.of("\n"), sent.getStopList());
        assertTrue(FakeRouter.lastDeadline.get() != null, "the router call has a deadline");
    }

    @Test
    void completionDefaultsFollowOpenAi() {
        given().contentType(ContentType.JSON).body("{\"model\": \"stories260K\", \"prompt\": [1, 403, 407]}")
                .post("/v1/completions").then().statusCode(200);
        GenerateRequest sent = FakeRouter.lastRequest.get();
        assertEquals(List.of(1, 403, 407), sent.getTokenIds().getIdsList());
        assertEquals(16, sent.getMaxTokens(), "OpenAI's default max_tokens for completions");
        assertEquals(1f, sent.getSampling().getTemperature(), "OpenAI's default temperature");
        assertFalse(sent.getSampling().hasSeed());
    }

    @Test
    void streamIsServerSentEventsEndingWithDone() {
        String body = given().contentType(ContentType.JSON)
                .body("{\"prompt\": \"Once\", \"stream\": true, \"logprobs\": 0}")
                .post("/v1/completions")
                .then().statusCode(200).contentType("text/event-stream").extract().asString();
        List<String> events = events(body);
        assertEquals("data: [DONE]", events.getLast());
        StringBuilder text = new StringBuilder();
        for (String event : events.subList(0, events.size() - 1)) {
            JsonPath chunk = JsonPath.from(event.substring("data: ".length()));
            assertEquals("text_completion", chunk.getString("object"));
            text.append(chunk.getString("choices[0].text"));
        }
        JsonPath last = JsonPath.from(events.get(events.size() - 2).substring("data: ".length()));
        assertEquals("stop", last.getString("choices[0].finish_reason"));
        assertEquals(7, last.getInt("usage.total_tokens"));
        assertEquals("Hello world!", text.toString());
        JsonPath first = JsonPath.from(events.getFirst().substring("data: ".length()));
        assertEquals(-0.5f, first.getFloat("choices[0].logprobs.token_logprobs[0]"));
        assertNull(first.get("usage"), "usage only on the last chunk");
        assertTrue(FakeRouter.lastRequest.get().getLogprobs());
    }

    @Test
    void chatUsesTheDefaultTemplateWithoutOne() {
        given().contentType(ContentType.JSON)
                .body("""
                        {"model": "stories260K", "max_completion_tokens": 9, "user": "ignored",
                         "messages": [{"role": "system", "content": "Be brief."},
                                      {"role": "user", "content": [{"type": "text", "text": "Hi"}]}]}""")
                .post("/v1/chat/completions")
                .then().statusCode(200)
                .body("object", equalTo("chat.completion"))
                .body("id", startsWith("chatcmpl-"))
                .body("choices[0].message.role", equalTo("assistant"))
                .body("choices[0].message.content", equalTo("Hello world!"))
                .body("choices[0].finish_reason", equalTo("stop"))
                .body("usage.completion_tokens", equalTo(3));
        GenerateRequest sent = FakeRouter.lastRequest.get();
        assertEquals("System: Be brief.\nUser: Hi\nAssistant:", sent.getPrompt());
        assertEquals(List.of("\nUser:"), sent.getStopList());
        assertEquals(9, sent.getMaxTokens());
    }

    @Test
    void chatStreamOpensWithTheRoleAndClosesWithUsage() {
        String body = given().contentType(ContentType.JSON)
                .body("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"stream\": true}")
                .post("/v1/chat/completions")
                .then().statusCode(200).extract().asString();
        List<String> events = events(body);
        assertEquals("data: [DONE]", events.getLast());
        JsonPath first = JsonPath.from(events.getFirst().substring(6));
        assertEquals("chat.completion.chunk", first.getString("object"));
        assertEquals("assistant", first.getString("choices[0].delta.role"));
        StringBuilder text = new StringBuilder();
        for (String event : events.subList(0, events.size() - 1)) {
            String content = JsonPath.from(event.substring(6)).getString("choices[0].delta.content");
            text.append(content == null ? "" : content);
        }
        assertEquals("Hello world!", text.toString());
        JsonPath last = JsonPath.from(events.get(events.size() - 2).substring(6));
        assertEquals("stop", last.getString("choices[0].finish_reason"));
        assertEquals(4, last.getInt("usage.prompt_tokens"));
    }

    @Test
    void modelsAreListed() {
        given().get("/v1/models").then().statusCode(200)
                .body("object", equalTo("list"))
                .body("data.id", contains(FakeRouter.MODEL))
                .body("data[0].object", equalTo("model"))
                .body("data[0].owned_by", equalTo("binmos"))
                .body("data[0].max_model_len", equalTo(512));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            empty prompt              | {"prompt": ""}                                      | prompt
            no prompt                 | {"max_tokens": 3}                                   | prompt
            batched prompt            | {"prompt": ["a", "b"]}                              | prompt
            negative max_tokens       | {"prompt": "a", "max_tokens": -1}                   | max_tokens
            zero max_tokens           | {"prompt": "a", "max_tokens": 0}                    | max_tokens
            fractional max_tokens     | {"prompt": "a", "max_tokens": 1.5}                  | max_tokens
            NaN string temperature    | {"prompt": "a", "temperature": "NaN"}               | temperature
            numeric string            | {"prompt": "a", "temperature": "0.5"}               | temperature
            negative temperature      | {"prompt": "a", "temperature": -0.1}                | temperature
            huge temperature          | {"prompt": "a", "temperature": 1e300}               | temperature
            top_p zero                | {"prompt": "a", "top_p": 0}                         | top_p
            min_p one                 | {"prompt": "a", "min_p": 1}                         | min_p
            top_k negative            | {"prompt": "a", "top_k": -2}                        | top_k
            repetition_penalty zero   | {"prompt": "a", "repetition_penalty": 0}            | repetition_penalty
            frequency_penalty         | {"prompt": "a", "frequency_penalty": 0.5}           | frequency_penalty
            n two                     | {"prompt": "a", "n": 2}                             | n
            logprobs alternatives     | {"prompt": "a", "logprobs": 3}                      | logprobs
            empty stop string         | {"prompt": "a", "stop": [""]}                       | stop
            numeric stop              | {"prompt": "a", "stop": 5}                          | stop[0]
            unknown field             | {"prompt": "a", "best_of": 2}                       | best_of
            misspelled field          | {"prompt": "a", "max_token": 2}                     | max_token
            unknown model             | {"prompt": "a", "model": "gpt-4"}                   | model
            token outside vocabulary  | {"prompt": [1, 512]}                                | prompt
            """)
    void invalidCompletionIs400(String name, String body, String param) {
        given().contentType(ContentType.JSON).body(body).post("/v1/completions")
                .then().statusCode(400)
                .contentType(ContentType.JSON)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.param", equalTo(param))
                .body("error.message", not(blankOrNullString()));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            NaN literal               | {"prompt": "a", "temperature": NaN}
            not JSON                  | {"prompt":
            duplicate key             | {"prompt": "a", "prompt": "b"}
            no body                   | 
            an array                  | [1, 2]
            """)
    void unreadableBodyIs400(String name, String body) {
        given().contentType(ContentType.JSON).body(body == null ? "" : body).post("/v1/completions")
                .then().statusCode(400)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.message", not(blankOrNullString()))
                .body("error.message", not(equalTo("HTTP 400 Bad Request")));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            no messages      | {"messages": []}                                                    | messages
            unknown role     | {"messages": [{"role": "tool", "content": "x"}]}                    | messages[0].role
            image content    | {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]} | messages[0].content
            unknown field    | {"messages": [{"role": "user", "content": "x", "name": "bob"}]}     | messages[0].name
            both max tokens  | {"messages": [{"role": "user", "content": "x"}], "max_tokens": 1, "max_completion_tokens": 1} | max_completion_tokens
            top_logprobs     | {"messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 2} | top_logprobs
            """)
    void invalidChatIs400(String name, String body, String param) {
        given().contentType(ContentType.JSON).body(body).post("/v1/chat/completions")
                .then().statusCode(400).body("error.param", equalTo(param));
    }

    @Test
    void routerRejectionKeepsItsMessage() {
        given().contentType(ContentType.JSON).body("{\"prompt\": \"too long\"}").post("/v1/completions")
                .then().statusCode(400)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.message", equalTo("the prompt has 600 tokens, the context holds 512"));
    }

    @Test
    void fullRouterIs429WithRetryAfter() {
        for (boolean stream : new boolean[] {false, true}) {
            given().contentType(ContentType.JSON).body("{\"prompt\": \"full\", \"stream\": " + stream + "}")
                    .post("/v1/completions")
                    .then().statusCode(429)
                    .header("Retry-After", "7")
                    .body("error.type", equalTo("rate_limit_error"))
                    .body("error.message", equalTo("the wait queue is full"));
        }
    }

    @Test
    void failureMidStreamIsAnErrorEvent() {
        String body = given().contentType(ContentType.JSON).body("{\"prompt\": \"fail midway\", \"stream\": true}")
                .post("/v1/completions").then().statusCode(200).extract().asString();
        List<String> events = events(body);
        assertEquals("data: [DONE]", events.getLast());
        JsonPath error = JsonPath.from(events.get(events.size() - 2).substring(6));
        assertEquals("a worker died", error.getString("error.message"));
        assertEquals("server_error", error.getString("error.type"));
    }

    @Test
    void clientDisconnectCancelsTheRouterCall() throws Exception {
        FakeRouter.cancelled = new CountDownLatch(1);
        String body = "{\"prompt\": \"endless\", \"stream\": true}";
        try (Socket socket = new Socket("127.0.0.1", RestAssured.port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null && !line.startsWith("data: ")) {
                // headers, chunk sizes
            }
            assertTrue(line != null && line.startsWith("data: "), "a first event arrived");
        }
        assertTrue(FakeRouter.cancelled.await(5, TimeUnit.SECONDS), "the router call was cancelled");
    }

    @Test
    void metricsArePrometheus() {
        given().contentType(ContentType.JSON).body("{\"prompt\": \"Once\"}").post("/v1/completions").then().statusCode(200);
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        List<String> names = metrics.lines().filter(l -> !l.startsWith("#")).map(l -> l.split("[{ ]")[0]).toList();
        for (String name : List.of("binmos_gateway_request_success_total", "binmos_gateway_time_to_first_token_seconds_count",
                "binmos_gateway_e2e_request_latency_seconds_bucket", "binmos_gateway_generation_tokens_total",
                "binmos_gateway_num_requests_running", "binmos_gateway_request_failure_total")) {
            org.hamcrest.MatcherAssert.assertThat(names, hasItem(name));
        }
    }

    @Test
    void readyWhileTheRouterServesAModel() {
        given().get("/q/health/ready").then().statusCode(200).body("checks.name", hasItem("router"));
    }

    /** SSE events of a body: each must be {@code data: ...} followed by a blank line. */
    static List<String> events(String body) {
        assertTrue(body.endsWith("\n\n"), "the stream ends with a blank line");
        List<String> events = new ArrayList<>();
        for (String event : body.substring(0, body.length() - 2).split("\n\n", -1)) {
            assertTrue(event.startsWith("data: ") && !event.contains("\n"), "one data line per event: " + event);
            events.add(event);
        }
        return events;
    }
}
