package dev.httptrace.tcp;

/**
 * Receives one direction of a TCP connection as an ordered byte stream.
 *
 * <p>Calls come in stream order: {@code onStart} once (unless the stream ends before any
 * byte), then {@code onData} and {@code onGap} interleaved, then {@code onEnd} once. Gaps are
 * never filled with made-up bytes: the consumer is told how many bytes are missing.
 */
public interface StreamConsumer {

    /**
     * The stream begins at sequence number {@code seq}.
     *
     * @param midStream true when no SYN was seen: the capture joined the stream somewhere in
     *                  the middle, so the first byte is not necessarily the start of a message
     */
    void onStart(long seq, boolean midStream, long timestampNanos);

    /**
     * The next {@code len} bytes of the stream. The array belongs to the caller and is only
     * valid during the call: copy what must be kept.
     *
     * @param seq            sequence number of {@code buf[off]}
     * @param ack            acknowledgement number of the segment that carried the bytes, or
     *                       -1 when it had no ACK flag: how much of the opposite stream the
     *                       sender had received when it sent them
     * @param timestampNanos capture time of the segment that carried the bytes
     * @param segmentStart   {@code buf[off]} is the first payload byte of a captured segment
     *                       (not a byte in the middle of one, after a trimmed overlap or a gap)
     */
    void onData(byte[] buf, int off, int len, long seq, long ack, long timestampNanos, boolean segmentStart);

    /**
     * The next {@code bytes} bytes of the stream are missing from the capture.
     *
     * @param lost true when the capture lost them (lost samples, a hole given up); false
     *             when the segment is known and only the snap length left its end out
     */
    void onGap(long bytes, boolean lost, long timestampNanos);

    /** No more bytes will come. */
    void onEnd(EndReason reason, long timestampNanos);
}
