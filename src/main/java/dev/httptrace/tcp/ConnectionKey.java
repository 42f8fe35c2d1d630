package dev.httptrace.tcp;

import dev.httptrace.capture.Segment;

/**
 * Identifies a TCP connection regardless of direction: the two endpoints are stored in a
 * fixed order, so a segment and its reply map to the same key. Addresses are packed into
 * longs so that equality and hashing touch no arrays.
 */
public final class ConnectionKey {
    private final long lowHi, lowLo, highHi, highLo;
    private final int lowPort, highPort;
    private final boolean ipv6;

    private ConnectionKey(long lowHi, long lowLo, int lowPort, long highHi, long highLo, int highPort, boolean ipv6) {
        this.lowHi = lowHi;
        this.lowLo = lowLo;
        this.lowPort = lowPort;
        this.highHi = highHi;
        this.highLo = highLo;
        this.highPort = highPort;
        this.ipv6 = ipv6;
    }

    public static ConnectionKey of(Segment s) {
        long srcHi = hi(s.srcAddr()), srcLo = lo(s.srcAddr());
        long dstHi = hi(s.dstAddr()), dstLo = lo(s.dstAddr());
        int c = Long.compareUnsigned(srcHi, dstHi);
        if (c == 0) c = Long.compareUnsigned(srcLo, dstLo);
        if (c == 0) c = Integer.compare(s.srcPort(), s.dstPort());
        return c <= 0
                ? new ConnectionKey(srcHi, srcLo, s.srcPort(), dstHi, dstLo, s.dstPort(), s.ipv6())
                : new ConnectionKey(dstHi, dstLo, s.dstPort(), srcHi, srcLo, s.srcPort(), s.ipv6());
    }

    /** First 8 bytes of an IPv6 address; 0 for IPv4. */
    private static long hi(byte[] a) {
        return a.length == 16 ? pack(a, 0, 8) : 0;
    }

    /** Last 8 bytes of an IPv6 address, or the 4 bytes of an IPv4 one. */
    private static long lo(byte[] a) {
        return a.length == 16 ? pack(a, 8, 8) : pack(a, 0, a.length);
    }

    private static long pack(byte[] a, int off, int len) {
        long v = 0;
        for (int i = off; i < off + len; i++) v = (v << 8) | (a[i] & 0xFF);
        return v;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConnectionKey k
                && lowLo == k.lowLo && highLo == k.highLo && lowPort == k.lowPort && highPort == k.highPort
                && lowHi == k.lowHi && highHi == k.highHi && ipv6 == k.ipv6;
    }

    @Override
    public int hashCode() {
        long h = lowLo * 0x9E3779B97F4A7C15L;
        h = (h ^ highLo) * 0x9E3779B97F4A7C15L;
        h = (h ^ lowHi ^ (highHi << 1)) * 0x9E3779B97F4A7C15L;
        h ^= ((long) lowPort << 16) | highPort;
        return (int) (h ^ (h >>> 32));
    }
}
