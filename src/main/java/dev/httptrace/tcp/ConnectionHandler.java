package dev.httptrace.tcp;

/** What the layer above TCP keeps for one connection: a consumer per direction, and a close notice. */
public interface ConnectionHandler {

    /** The consumer of the bytes that {@code side} (0 or 1, see {@link Connection}) sends. Asked once per side. */
    StreamConsumer stream(int side);

    /** The connection is gone: both streams have ended (their {@code onEnd} came first). */
    void onClose(EndReason reason, long timestampNanos);
}
