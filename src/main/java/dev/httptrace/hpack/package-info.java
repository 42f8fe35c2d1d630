/**
 * HPACK (RFC 7541), the header compression of HTTP/2, decoded honestly for a tracer.
 *
 * <p>{@link dev.httptrace.hpack.HpackDecoder} is the entry point, one per connection and
 * direction: whole header blocks in, {@link dev.httptrace.hpack.HeaderBlock}s of
 * {@link dev.httptrace.hpack.HeaderField}s out (octets as ISO-8859-1 characters). A decoder
 * that joined a connection mid-way, or lost header bytes, knows only the dynamic table entries
 * inserted since: a reference to an older one gives a field with a null name and value and
 * the index, counted, and decoding goes on; a known index never yields a guessed or stale
 * value. Never-indexed literals are marked sensitive. Any input is decoded in bounded time
 * and memory without an exception. Depends on nothing else in the project.
 */
package dev.httptrace.hpack;
