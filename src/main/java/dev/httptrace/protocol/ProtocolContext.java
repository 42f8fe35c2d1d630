package dev.httptrace.protocol;

import dev.httptrace.exchange.Exchange;

/** What a protocol's connection reports to: the rest of the pipeline, for this one connection. */
public interface ProtocolContext {

    /**
     * One exchange (a request and its response, or none) whose request side {@code clientSide}
     * (0 or 1) sent; the connection's part of the record (interface, endpoints, TLS processes)
     * is filled in here. {@code http2} is null for HTTP/1.
     */
    void emit(int clientSide, Exchange.Request request, Exchange.Response response, Exchange.TraceInfo trace,
              Exchange.Http2 http2);

    /**
     * The connection switches to {@code next} (HTTP/1.1 Upgrade answered 101): a reading of it by
     * that protocol, which takes the bytes after the switch and continues {@code request}; null
     * when that protocol is not read here.
     */
    ProtocolConnection upgrade(Protocol next, int clientSide, Exchange.Request request);
}
