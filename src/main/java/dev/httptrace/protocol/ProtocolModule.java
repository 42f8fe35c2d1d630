package dev.httptrace.protocol;

import dev.httptrace.tcp.Connection;

/**
 * One protocol: how to recognise it, and how to read a connection that speaks it. A module
 * holds what its connections share (counters, memory budgets) and lives as long as the trace.
 */
public interface ProtocolModule {

    Protocol protocol();

    /** Recognises the protocol; the router's fallback module (HTTP/1) is never asked. */
    ProtocolSniffer sniffer();

    /**
     * Starts reading {@code connection}, whose streams the router replays from their first
     * byte seen. {@code joinedMidStream}: the connection was not seen from its start.
     */
    ProtocolConnection open(Connection connection, boolean joinedMidStream, ProtocolContext context);

    /** Housekeeping, about every 100 ms (capture time). */
    default void expire(long nowNanos, long reorderTimeoutNanos) {}

    /** The trace ends; every connection has been closed already. */
    default void finish() {}
}
