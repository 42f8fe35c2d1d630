package dev.httptrace.tcp;

/** What the layer above TCP keeps for one connection: a consumer per direction, and a close notice. */
public interface ConnectionHandler {

    /** The consumer of the bytes that {@code side} (0 or 1, see {@link Connection}) sends. Asked once per side. */
    StreamConsumer stream(int side);

    /** The connection is gone: both streams have ended (their {@code onEnd} came first). */
    void onClose(EndReason reason, long timestampNanos);

    /**
     * The connection is reported by another source (its TLS plaintext): it leaves the table
     * without a close; what the handler holds is dropped, nothing is reported, and what was
     * counted is taken back. Also called shortly after {@link #onClose}, when the other source
     * claims a connection that closed here first.
     */
    default void onHandedOver() {}
}
