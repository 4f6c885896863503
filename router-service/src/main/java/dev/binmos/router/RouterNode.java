package dev.binmos.router;

import dev.binmos.proto.v1.DescribeRequest;
import dev.binmos.proto.v1.Node;
import dev.binmos.proto.v1.NodeDescription;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Uni;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** The {@code binmos.v1.Node} gRPC service of binmos-router. */
@GrpcService
public class RouterNode implements Node {

    private final NodeDescription description;

    RouterNode(
            @ConfigProperty(name = "quarkus.application.name") String service,
            @ConfigProperty(name = "quarkus.application.version") String version) {
        this.description = NodeDescription.newBuilder().setService(service).setVersion(version).build();
    }

    @Override
    public Uni<NodeDescription> describe(DescribeRequest request) {
        return Uni.createFrom().item(description);
    }
}
