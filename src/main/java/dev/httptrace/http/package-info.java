/**
 * The HTTP/1 stage: ordered byte streams in, {@link dev.httptrace.http.Exchange}s out.
 *
 * <p>{@link dev.httptrace.http.HttpTracer} is the entry point. Per connection, an
 * {@code HttpConnection} decides which side is the client and pairs responses with requests;
 * per direction, a {@code MessageStream} parses heads ({@code HeadParser},
 * {@code StartLineScanner}) and skips bodies by counting ({@code ChunkedBody}). Depends on
 * {@code tcp} and {@code capture}, never the other way round.
 */
package dev.httptrace.http;
