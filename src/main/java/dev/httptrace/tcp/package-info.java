/**
 * The TCP stage: captured segments in, ordered byte streams out.
 *
 * <p>{@link dev.httptrace.tcp.TcpTracker} keeps a bounded flow table of
 * {@link dev.httptrace.tcp.Connection}s (both directions under one
 * {@link dev.httptrace.tcp.ConnectionKey}), and a {@link dev.httptrace.tcp.StreamReassembler}
 * per direction puts bytes back in sequence order for a {@link dev.httptrace.tcp.StreamConsumer}:
 * retransmissions skipped, out-of-order segments held, losses reported as gaps of a known
 * length. Copies of a segment seen moments later on another interface (a veth and its bridge)
 * are told from retransmissions ({@code InterfaceCopies}) and skipped. It knows nothing of HTTP; the layer above supplies a
 * {@link dev.httptrace.tcp.ConnectionHandler} for each connection.
 */
package dev.httptrace.tcp;
