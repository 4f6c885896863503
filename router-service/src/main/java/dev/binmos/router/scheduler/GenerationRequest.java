package dev.binmos.router.scheduler;

import dev.binmos.engine.generate.Completion;
import dev.binmos.engine.generate.Generation;
import dev.binmos.engine.generate.GenerationState;
import dev.binmos.proto.v1.FinishReason;
import dev.binmos.proto.v1.GenerateResponse;
import dev.binmos.proto.v1.GeneratedToken;
import dev.binmos.proto.v1.GenerationFinished;
import dev.binmos.proto.v1.Usage;
import dev.binmos.router.RouterMetrics;
import dev.binmos.router.ServedModel;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.subscription.MultiEmitter;

/**
 * One Generate call from arrival to its last message: the validated input, the generation's decisions
 * ({@link GenerationState}, shared with the single-process engine) and the stream to the client.
 * Only the thread that currently owns the request (control thread, then the batch loop) touches it;
 * {@link #cancel} may come from any thread.
 */
public final class GenerationRequest {
    private final String id;
    private final ServedModel model;
    private final int[] input;
    private final Generation generation;
    private final boolean logprobs;
    private final RouterSession continued;
    private final MultiEmitter<? super GenerateResponse> emitter;
    private final Context trace;
    private final RouterMetrics metrics;
    private final long arrival = System.nanoTime();
    private final StringBuilder text = new StringBuilder();
    private volatile boolean cancelled;
    private RouterSession session;
    private GenerationState state;
    /** When the last token was sampled (0: none yet). */
    private long lastToken;

    /**
     * @param input     the tokens this request adds (BOS first for a new session)
     * @param continued the idle session to continue (claimed), or null for a new one
     */
    public GenerationRequest(String id, ServedModel model, int[] input, Generation generation, boolean logprobs,
                             RouterSession continued, MultiEmitter<? super GenerateResponse> emitter, Context trace,
                             RouterMetrics metrics) {
        this.id = id;
        this.model = model;
        this.input = input;
        this.generation = generation;
        this.logprobs = logprobs;
        this.continued = continued;
        this.emitter = emitter;
        this.trace = trace;
        this.metrics = metrics;
    }

    public String id() {
        return id;
    }

    int inputTokens() {
        return input.length;
    }

    ServedModel model() {
        return model;
    }

    RouterSession continued() {
        return continued;
    }

    RouterSession session() {
        return session;
    }

    /** The trace of the Generate call, for the stage calls made on its behalf. */
    Context trace() {
        return trace;
    }

    long waitedNanos() {
        return System.nanoTime() - arrival;
    }

    /** Positions the session needs on every stage for this request: all it may hold at the end. */
    int positionsNeeded(int sessionLength) {
        long most = (long) sessionLength + input.length + generation.maxTokens();
        return (int) Math.min(model.config().contextLength(), most);
    }

    /** The client went away: the batch loop drops the request and closes its session. */
    public void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    /** The session is placed and reserved: adds the input and starts the generation. */
    void start(RouterSession placed) {
        this.session = placed;
        placed.append(input);
        this.state = new GenerationState(model.tokenizer(), generation, placed.tokens(), input.length,
                model.config().contextLength(), text::append);
        metrics.queued(waitedNanos());
    }

    boolean finished() {
        return state.finished();
    }

    /** Tokens still to run before the next logits. */
    int pending() {
        return session.length() - session.fed();
    }

    /**
     * The logits of the session's last token: samples, streams the token and returns true when the
     * generation goes on; false when it has finished (the caller then ends it with {@link #complete}).
     */
    boolean next(float[] logits) {
        int before = state.length();
        int token = state.sample(logits);
        boolean goesOn = state.accept(token);
        long now = System.nanoTime();
        if (lastToken == 0) {
            metrics.firstToken(now - arrival);
        } else {
            metrics.interToken(now - lastToken);
        }
        if (state.length() > before) {
            session.append(token);
            GeneratedToken.Builder out = GeneratedToken.newBuilder()
                    .setId(token)
                    .setText(takeText())
                    .setPosition(state.length() - 1);
            if (logprobs) {
                out.setLogprob(logprob(logits, token));
            }
            emitter.emit(GenerateResponse.newBuilder().setToken(out).build());
        }
        lastToken = now;
        return goesOn;
    }

    /** Ends the generation normally: the held-back text, the reason and the usage. */
    void complete() {
        Completion completion = state.finish();
        FinishReason reason = switch (completion.finishReason()) {
            case STOP -> FinishReason.FINISH_REASON_STOP;
            case LENGTH -> FinishReason.FINISH_REASON_LENGTH;
        };
        end(GenerationFinished.newBuilder()
                .setReason(reason)
                .setUsage(usage(completion.tokens().length))
                .setSessionId(session.id())
                .setText(takeText()));
    }

    /** Ends the generation with an error the client reads in the last message. */
    void fail(String message) {
        end(GenerationFinished.newBuilder()
                .setReason(FinishReason.FINISH_REASON_ERROR)
                .setUsage(usage(state == null ? 0 : state.generated().length))
                .setMessage(message)
                .setSessionId(session == null ? "" : session.id()));
    }

    /** Ends the call with a gRPC status, before any token (e.g. the request waited too long). */
    void reject(StatusRuntimeException status) {
        metrics.finished(System.nanoTime() - arrival, "rejected");
        emitter.fail(status);
    }

    /** The client has gone: only the metrics hear of it. */
    void recordCancelled() {
        metrics.finished(System.nanoTime() - arrival, "cancelled");
    }

    private void end(GenerationFinished.Builder finished) {
        metrics.finished(System.nanoTime() - arrival, finished.getReason().name().substring("FINISH_REASON_".length()).toLowerCase());
        emitter.emit(GenerateResponse.newBuilder().setFinished(finished).build());
        emitter.complete();
    }

    private Usage usage(int completion) {
        return Usage.newBuilder()
                .setPromptTokens(input.length)
                .setCompletionTokens(completion)
                .setTotalTokens(input.length + completion)
                .build();
    }

    private String takeText() {
        String out = text.toString();
        text.setLength(0);
        return out;
    }

    /** Natural log of the token's probability under the raw logits (before sampling transforms). */
    private float logprob(float[] logits, int token) {
        int vocab = model.config().vocabSize();
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[i] - max);
        }
        return (float) (logits[token] - max - Math.log(sum));
    }
}
