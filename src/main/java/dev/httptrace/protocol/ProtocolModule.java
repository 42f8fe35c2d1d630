package dev.httptrace.protocol;

import dev.httptrace.exchange.Exchange;
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

    /**
     * Takes over a connection that switched to this protocol by an HTTP/1.1 Upgrade, from the
     * byte after the switch in each direction; {@code request} is the one that asked. Null when
     * this protocol cannot be reached that way.
     */
    default ProtocolConnection upgrade(Connection connection, int clientSide, Exchange.Request request,
                                       ProtocolContext context) {
        return null;
    }

    /** Housekeeping, about every 100 ms (capture time). */
    default void expire(long nowNanos, long reorderTimeoutNanos) {}

    /** The trace ends; every connection has been closed already. */
    default void finish() {}
}
