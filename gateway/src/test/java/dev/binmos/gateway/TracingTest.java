package dev.binmos.gateway;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

/** The client's trace continues on the router call (W3C traceparent), as does the request id. */
@QuarkusTest
@WithTestResource(FakeRouter.class)
class TracingTest {

    @Test
    void traceAndRequestIdReachTheRouter() {
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        given().contentType(ContentType.JSON)
                .header("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01")
                .header("X-Request-Id", "test-request-1")
                .body("{\"prompt\": \"Once\"}")
                .post("/v1/completions").then().statusCode(200);
        String traceparent = FakeRouter.lastHeaders.get().get(FakeRouter.TRACEPARENT);
        assertNotNull(traceparent, "the router call carries a traceparent");
        assertEquals(traceId, traceparent.split("-")[1]);
        assertEquals("test-request-1", FakeRouter.lastHeaders.get().get(dev.binmos.gateway.router.RouterClient.REQUEST_ID));
    }
}
