package dev.httptrace.http2;

/**
 * What a {@link FrameReader} found in one direction, frame by frame. {@code side} (0 or 1) is
 * the connection side that sent the frame; timestamps are those of the segment that carried the
 * frame's first byte. Buffers belong to the reader and are only valid during the call.
 */
interface FrameHandler {

    /** The client's connection preface was read on {@code side}. */
    void preface(int side);

    /**
     * A whole header block (HEADERS and its CONTINUATIONs; padding and priority removed).
     *
     * @param complete false when bytes of the block are missing (a gap, or over the size
     *                 limit): the block cannot be decoded and the sender's HPACK state is unknown
     */
    void headers(int side, int streamId, boolean endStream, byte[] block, int length, boolean complete, long ts);

    /** A PUSH_PROMISE block: {@code promisedId} is the stream the server will push on. */
    void pushPromise(int side, int streamId, int promisedId, byte[] block, int length, boolean complete, long ts);

    /** Bytes of a DATA frame's payload (padding left out), in order; a frame may come in pieces. */
    void data(int side, int streamId, byte[] buf, int off, int length, long ts);

    /** Payload bytes of a DATA frame that the capture does not have; {@code lost} as in StreamConsumer.onGap. */
    void dataGap(int side, int streamId, long bytes, boolean lost, long ts);

    /** The DATA frame ended; {@code endStream} when it carried END_STREAM. */
    void dataEnd(int side, int streamId, boolean endStream, long ts);

    void rstStream(int side, int streamId, long errorCode, long ts);

    /** A SETTINGS frame (not an ACK): {@code n} pairs of identifier and value. */
    void settings(int side, int[] ids, long[] values, int n);

    void goAway(int side, int lastStreamId, long errorCode, long ts);

    /**
     * Frame boundaries were lost in this direction (a gap outside a DATA payload, or bytes that
     * are no frame): header blocks were missed, so the sender's HPACK state is unknown. The
     * reader hunts for a segment that starts a plausible chain of frames.
     */
    void framingLost(int side, long ts);
}
