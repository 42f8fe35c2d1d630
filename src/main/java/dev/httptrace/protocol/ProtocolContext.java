package dev.httptrace.protocol;

import dev.httptrace.exchange.Exchange;

/** What a protocol's connection reports to: the rest of the pipeline, for this one connection. */
public interface ProtocolContext {

    /** One exchange (a request and its response, or none) whose request side {@code clientSide} (0 or 1) sent. */
    void emit(int clientSide, Exchange exchange);
}
