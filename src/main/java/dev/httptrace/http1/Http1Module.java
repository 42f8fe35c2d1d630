package dev.httptrace.http1;

import dev.httptrace.protocol.Protocol;
import dev.httptrace.protocol.ProtocolConnection;
import dev.httptrace.protocol.ProtocolContext;
import dev.httptrace.protocol.ProtocolModule;
import dev.httptrace.protocol.ProtocolSniffer;
import dev.httptrace.tcp.Connection;

import java.util.ArrayList;
import java.util.List;

/**
 * HTTP/1.x: what its connections share, the counters, the budget of head bytes held by
 * exchanges not yet reported, and the connections whose responses wait for their request.
 * The router's fallback: it reads whatever no other protocol claims (its parser is lenient
 * at a stream's start and strict when it hunts for a head).
 */
public final class Http1Module implements ProtocolModule {

    /**
     * Head bytes all open exchanges together may hold (their header strings) before new requests
     * are counted instead of tracked: with the per-connection cap, memory stays bounded under a
     * flood of unanswered requests with large heads.
     */
    static final long MAX_HELD_HEAD_BYTES = 256L << 20;

    private final int maxHeadBytes;
    private final int maxDeferredBytes;
    final Http1Counters counters = new Http1Counters();
    private final List<Http1Connection> withParkedResponses = new ArrayList<>();
    private long heldHeadBytes;

    /**
     * @param maxHeadBytes     message heads longer than this are marked truncated
     * @param maxDeferredBytes bytes of a response kept while it waits for its request
     */
    public Http1Module(int maxHeadBytes, int maxDeferredBytes) {
        this.maxHeadBytes = maxHeadBytes;
        this.maxDeferredBytes = maxDeferredBytes;
    }

    public Http1Counters counters() { return counters; }

    @Override
    public Protocol protocol() { return Protocol.HTTP1; }

    /** Never asked: HTTP/1 is what a connection is read as when nothing else claims it. */
    @Override
    public ProtocolSniffer sniffer() {
        return (buf, off, len, atStart) -> ProtocolSniffer.Guess.NO;
    }

    @Override
    public ProtocolConnection open(Connection connection, boolean joinedMidStream, ProtocolContext context) {
        return new Http1Connection(this, context, connection, maxHeadBytes, maxDeferredBytes);
    }

    /** Responses that waited longer than the reorder timeout for a request that never came are orphans. */
    @Override
    public void expire(long nowNanos, long reorderTimeoutNanos) {
        for (int i = withParkedResponses.size() - 1; i >= 0; i--) {
            if (!withParkedResponses.get(i).expireParked(nowNanos, reorderTimeoutNanos)) {
                withParkedResponses.set(i, withParkedResponses.getLast());
                withParkedResponses.removeLast();
            }
        }
    }

    @Override
    public void finish() {
        withParkedResponses.clear();
    }

    /** Head bytes held by exchanges not yet reported. */
    public long heldHeadBytes() {
        return heldHeadBytes;
    }

    boolean canHold(long bytes) {
        return heldHeadBytes + bytes <= MAX_HELD_HEAD_BYTES;
    }

    void hold(long bytes) {
        heldHeadBytes += bytes;
    }

    void watchParked(Http1Connection connection) {
        if (!withParkedResponses.contains(connection)) withParkedResponses.add(connection);
    }
}
