package dev.httptrace.http2;

/** Running totals of the HTTP/2 stage. Single-threaded, like the rest of the pipeline. */
public final class Http2Counters {
    long connections;
    long frames;
    long requests;
    long responses;
    long streams;
    long partialStreams;
    long unknownFields;
    long rstStreams;
    long goAways;
    long framingLost;
    long protocolErrors;
    long oversizedFrames;
    long oversizedBlocks;
    long streamsDropped;
    long hpackErrors;

    /** Connections read as HTTP/2. */
    public long connections() { return connections; }

    /** Request header blocks read (a stream's first from the client, a PUSH_PROMISE's). */
    public long requests() { return requests; }

    /** Final response header blocks read. */
    public long responses() { return responses; }

    /** Frames read. */
    public long frames() { return frames; }

    /** Streams reported (one record each). */
    public long streams() { return streams; }

    /** Of those, records that miss something HPACK or the join hid: unknown fields, or the request's HEADERS. */
    public long partialStreams() { return partialStreams; }

    /** Header fields that referred to table entries the capture never saw. */
    public long unknownFields() { return unknownFields; }

    /** RST_STREAM frames that ended a stream being reported. */
    public long rstStreams() { return rstStreams; }

    /** GOAWAY frames. */
    public long goAways() { return goAways; }

    /** Times a direction lost its frame boundaries (a gap outside DATA, or bytes that were no frame). */
    public long framingLost() { return framingLost; }

    /** Frames that broke the protocol's rules (a CONTINUATION out of place, padding longer than the frame). */
    public long protocolErrors() { return protocolErrors; }

    /** Frames longer than the receiver allows (its SETTINGS_MAX_FRAME_SIZE, 16384 by default): framing lost there. */
    public long oversizedFrames() { return oversizedFrames; }

    /** Header blocks over the size limit (a CONTINUATION flood): not decoded. */
    public long oversizedBlocks() { return oversizedBlocks; }

    /** Streams not tracked because their connection had too many open. */
    public long streamsDropped() { return streamsDropped; }

    /** Header blocks that were not valid HPACK. */
    public long hpackErrors() { return hpackErrors; }
}
