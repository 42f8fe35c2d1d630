/**
 * Which protocol a connection speaks, decided once: the {@link dev.httptrace.protocol.ProtocolRouter}
 * sits between a source of byte streams (tcp, tls) and the protocol modules
 * ({@link dev.httptrace.protocol.ProtocolModule}: http1, http2), sniffs each connection's first
 * bytes (or, joined mid-way, the start of its segments), and hands both streams to one module.
 */
package dev.httptrace.protocol;
