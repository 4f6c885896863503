package dev.binmos.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.binmos.proto.v1.GenerationGrpc;
import dev.binmos.proto.v1.ListModelsRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** With {@code binmos.gateway.api-keys} set, REST and gRPC want one of the keys; health stays open. */
@QuarkusTest
@TestProfile(ApiKeyTest.WithKeys.class)
@WithTestResource(FakeRouter.class)
class ApiKeyTest {

    public static class WithKeys implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("binmos.gateway.api-keys", "first-key,second-key");
        }
    }

    @Test
    void restWantsAKey() {
        String body = "{\"prompt\": \"Once\"}";
        given().contentType(ContentType.JSON).body(body).post("/v1/completions")
                .then().statusCode(401).header("WWW-Authenticate", "Bearer")
                .body("error.type", equalTo("authentication_error"))
                .body("error.code", equalTo("invalid_api_key"));
        given().contentType(ContentType.JSON).header("Authorization", "Bearer wrong").body(body).post("/v1/completions")
                .then().statusCode(401);
        given().contentType(ContentType.JSON).header("Authorization", "Bearer second-key").body(body).post("/v1/completions")
                .then().statusCode(200);
        given().get("/v1/models").then().statusCode(401);
        given().get("/q/health/ready").then().statusCode(200);
    }

    @Test
    void grpcWantsAKey() throws InterruptedException {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", FakeRouter.gatewayGrpcPort).usePlaintext().build();
        try {
            GenerationGrpc.GenerationBlockingStub stub = GenerationGrpc.newBlockingStub(channel);
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> stub.listModels(ListModelsRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());

            Metadata key = new Metadata();
            key.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer first-key");
            assertEquals(FakeRouter.MODEL, stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(key))
                    .listModels(ListModelsRequest.getDefaultInstance()).getModels(0).getId());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
