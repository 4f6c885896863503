package dev.binmos.router.scheduler;

import dev.binmos.router.ServedModel;
import dev.binmos.router.registry.Pipeline;
import io.grpc.Status;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/** Open sessions by id: generating, or idle and waiting to be continued. */
@Singleton
public class SessionStore {
    private final Map<String, RouterSession> sessions = new ConcurrentHashMap<>();

    RouterSession create(ServedModel model, Pipeline pipeline) {
        RouterSession session = new RouterSession(UUID.randomUUID().toString(), model, pipeline);
        sessions.put(session.id(), session);
        return session;
    }

    /**
     * Claims an idle session for a continuation adding {@code added} tokens: NOT_FOUND when unknown or
     * closed, FAILED_PRECONDITION when it is generating, INVALID_ARGUMENT when they overflow the context.
     */
    public RouterSession claim(String id, ServedModel model, int added) {
        RouterSession session = sessions.get(id);
        if (session == null || session.state() == RouterSession.State.CLOSED) {
            throw Status.NOT_FOUND.withDescription("session " + id + " is unknown or was closed (idle too long, evicted for KV cache, or its worker left)")
                    .asRuntimeException();
        }
        if (session.model() != model) {
            throw Status.INVALID_ARGUMENT.withDescription("session " + id + " belongs to model " + session.model().id()
                    + ", not " + model.id()).asRuntimeException();
        }
        int context = model.config().contextLength();
        if (session.length() + added > context) {
            throw Status.INVALID_ARGUMENT.withDescription("the prompt has " + added + " tokens and session " + id + " holds "
                    + session.length() + "; the context of model " + model.id() + " holds " + context).asRuntimeException();
        }
        if (!session.activate()) {
            throw Status.FAILED_PRECONDITION.withDescription("session " + id + " is generating; wait for its end to continue it")
                    .asRuntimeException();
        }
        return session;
    }

    void remove(RouterSession session) {
        sessions.remove(session.id(), session);
    }

    List<RouterSession> all() {
        return List.copyOf(sessions.values());
    }
}
