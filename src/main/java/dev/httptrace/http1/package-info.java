/**
 * HTTP/1.x: ordered byte streams of one connection in, {@link dev.httptrace.exchange.Exchange}s out.
 *
 * <p>{@link dev.httptrace.http1.Http1Module} is the protocol module (the router's fallback). Per
 * connection, an {@code Http1Connection} decides which side is the client and pairs responses with
 * requests; per direction, a {@code MessageStream} parses heads ({@code HeadParser},
 * {@code StartLineScanner}) and skips bodies by counting ({@code ChunkedBody}). Depends on
 * {@code tcp} (stream events), {@code protocol} and {@code exchange}, never the other way round.
 */
package dev.httptrace.http1;
