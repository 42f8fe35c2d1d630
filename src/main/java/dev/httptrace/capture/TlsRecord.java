package dev.httptrace.capture;

/**
 * One record of the TLS uprobes: plaintext bytes one process sent or received through
 * its TLS library, or the end of a TLS stream. Built by {@link TlsCapture}, and by tests.
 *
 * @param timestampNanos  wall-clock time of the call's return, nanoseconds since the epoch
 * @param ssl             the library's connection object (SSL *): with {@code pid}, names the stream
 * @param serial          the stream's number from the kernel: tells apart streams of an SSL object freed and reused
 * @param pid             process id
 * @param tid             thread id
 * @param comm            the thread's name
 * @param close           true: the stream ended (SSL_free); no data
 * @param sent            true: the process sent these bytes (SSL_write*); false: it received them
 * @param position        position of the first byte in this direction of the stream, unsigned 32-bit
 * @param otherPosition   the opposite direction's position at the call, unsigned 32-bit
 * @param data            holds the bytes at {@code offset} (shared with the batch: copy what must be kept)
 * @param offset          where the bytes start in {@code data}
 * @param length          how many bytes were copied
 * @param skipped         bytes of the call after these that were not copied
 * @param fromStart       the stream was seen from its handshake: position 0 is its first byte
 * @param localAddress    the socket's local address (4 or 16 bytes), or empty when the socket is unknown
 * @param localPort       its local port (0 when unknown)
 * @param remoteAddress   its remote address, or empty
 * @param remotePort      its remote port
 */
public record TlsRecord(long timestampNanos, long ssl, int serial, int pid, int tid, String comm, boolean close, boolean sent,
                        long position, long otherPosition, byte[] data, int offset, int length, long skipped,
                        boolean fromStart, byte[] localAddress, int localPort, byte[] remoteAddress, int remotePort) {

    public TlsRecord {
        if (offset < 0 || length < 0 || offset + length > data.length) {
            throw new IllegalArgumentException("record bytes outside the data array");
        }
        if (localAddress.length != remoteAddress.length) {
            throw new IllegalArgumentException("local and remote addresses of different families");
        }
    }

    /** The socket under the stream is known. */
    public boolean socketKnown() {
        return localAddress.length != 0;
    }
}
