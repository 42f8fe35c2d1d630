package dev.httptrace.tcp;

/** Why a stream (one direction) or a whole connection ended. */
public enum EndReason {
    /** The sender closed its direction; every byte before the FIN was delivered or given up as a gap. */
    FIN,
    /** A reset ended both directions at once. */
    RST,
    /** A new connection (SYN with another initial sequence number) reused the same addresses and ports. */
    REPLACED,
    /** No segment for longer than the idle timeout. */
    IDLE,
    /** Evicted from a full flow table: it was the least recently active connection. */
    EVICTED,
    /** The capture ended. */
    CAPTURE_END
}
