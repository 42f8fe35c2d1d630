package dev.httptrace.http2;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.protocol.Protocol;
import dev.httptrace.protocol.ProtocolConnection;
import dev.httptrace.protocol.ProtocolContext;
import dev.httptrace.protocol.ProtocolModule;
import dev.httptrace.protocol.ProtocolSniffer;
import dev.httptrace.tcp.Connection;

import java.util.function.Consumer;

/** HTTP/2: its sniffer, and what its connections share (the counters). */
public final class Http2Module implements ProtocolModule {

    private final Http2Counters counters = new Http2Counters();
    private final Http2Sniffer sniffer = new Http2Sniffer();
    private final Consumer<Connection> opened;

    /** @param opened told of each connection read as HTTP/2 (the capture then copies its segments whole) */
    public Http2Module(Consumer<Connection> opened) {
        this.opened = opened;
    }

    public Http2Counters counters() { return counters; }

    @Override
    public Protocol protocol() { return Protocol.HTTP2; }

    @Override
    public ProtocolSniffer sniffer() { return sniffer; }

    @Override
    public ProtocolConnection open(Connection connection, boolean joinedMidStream, ProtocolContext context) {
        counters.connections++;
        opened.accept(connection);
        return new Http2Connection(counters, context, connection, joinedMidStream);
    }

    /** h2c: the upgraded request is stream 1, its response comes in HTTP/2. */
    @Override
    public ProtocolConnection upgrade(Connection connection, int clientSide, Exchange.Request request,
                                      ProtocolContext context) {
        counters.connections++;
        opened.accept(connection);
        Http2Connection c = new Http2Connection(counters, context, connection, false);
        c.upgradedFrom(clientSide, request);
        return c;
    }
}
