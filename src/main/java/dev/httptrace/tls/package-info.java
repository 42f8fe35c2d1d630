/**
 * The TLS source: plaintext records from the uprobes on OpenSSL in, ordered byte streams
 * out, for the same HTTP stage as the packet path.
 *
 * <p>{@link dev.httptrace.tls.TlsTracker} is the sibling of {@link dev.httptrace.tcp.TcpTracker}:
 * one stream per process and SSL object, put in order by the positions the kernel assigns
 * (the same {@link dev.httptrace.tcp.StreamReassembler}s, so holes, losses and gaps are
 * handled alike), with the processes at its ends in a {@link dev.httptrace.tcp.TlsOrigin}.
 * When both ends of a connection are traced (curl to a local nginx), the stream seen first
 * reports it and the other only adds its process. A connection reported here is handed over
 * by the packet path, so its ciphertext is neither parsed nor counted.
 * {@link dev.httptrace.tls.TlsLibraries} finds the libraries to probe and says what it did.
 */
package dev.httptrace.tls;
