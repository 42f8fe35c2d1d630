package dev.httptrace.tcp;

/** Running totals of the TCP stage. Single-threaded, like the rest of the pipeline. */
public final class TcpCounters {
    long segments;
    long retransmittedSegments;
    long outOfOrderSegments;
    long gaps;
    long flowsEvicted;
    long flowsTimedOut;
    long interfaceCopies;
    long handedOverSegments;

    /** Segments accepted. */
    public long segments() { return segments; }

    /** Segments whose bytes (all, or some at the front) had been delivered already. */
    public long retransmittedSegments() { return retransmittedSegments; }

    /** Segments that arrived ahead of a hole and were held until it filled or was given up. */
    public long outOfOrderSegments() { return outOfOrderSegments; }

    /** Gap events delivered to consumers: stretches of stream bytes missing from the capture. */
    public long gaps() { return gaps; }

    /** Connections evicted because the flow table was full. */
    public long flowsEvicted() { return flowsEvicted; }

    /** Segments skipped as copies of one just seen on another interface (veth and bridge), not retransmissions. */
    public long interfaceCopies() { return interfaceCopies; }

    /** Segments skipped because their connection is reported from its TLS plaintext instead. */
    public long handedOverSegments() { return handedOverSegments; }

    /** Connections dropped after the idle timeout. */
    public long flowsTimedOut() { return flowsTimedOut; }
}
