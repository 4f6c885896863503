package dev.binmos.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** With no router listening, the gateway is alive but not ready, and requests get 503 with Retry-After. */
@QuarkusTest
@TestProfile(RouterDownTest.NoRouter.class)
class RouterDownTest {

    public static class NoRouter implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            String port = Integer.toString(FakeRouter.freePort());
            return Map.of("quarkus.grpc.clients.router.port", port, "quarkus.grpc.clients.router.test-port", port,
                    "quarkus.grpc.server.test-port", Integer.toString(FakeRouter.freePort()));
        }
    }

    @Test
    void notReadyAndUnavailable() {
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/health/ready").then().statusCode(503);
        given().contentType(ContentType.JSON).body("{\"prompt\": \"Once\"}").post("/v1/completions")
                .then().statusCode(503)
                .header("Retry-After", "1")
                .body("error.type", equalTo("service_unavailable_error"));
    }
}
