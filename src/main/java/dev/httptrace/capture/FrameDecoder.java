package dev.httptrace.capture;

import java.util.Arrays;

/**
 * Decodes one captured link-layer frame down to its TCP segment: the same parsing the
 * socket filter does in the kernel, for frames read from capture files.
 *
 * <p>{@link #decode} returns the segment, or null and sets {@link #status} to
 * {@link #NON_TCP} (a valid frame that carries no TCP segment we read: ARP, UDP, non-first
 * IP fragments, unsupported link types) or {@link #MALFORMED} (headers that contradict
 * themselves or are cut off by the snap length before the TCP header ends).
 */
final class FrameDecoder {

    static final int OK = 0;
    static final int NON_TCP = 1;
    static final int MALFORMED = 2;

    // LINKTYPE_* values (https://www.tcpdump.org/linktypes.html).
    static final int LINKTYPE_NULL = 0;
    static final int LINKTYPE_ETHERNET = 1;
    static final int LINKTYPE_RAW = 101;
    static final int LINKTYPE_LOOP = 108;
    static final int LINKTYPE_LINUX_SLL = 113;
    static final int LINKTYPE_IPV4 = 228;
    static final int LINKTYPE_IPV6 = 229;
    static final int LINKTYPE_LINUX_SLL2 = 276;

    private static final int ETH_IPV4 = 0x0800;
    private static final int ETH_IPV6 = 0x86DD;
    private static final int ETH_VLAN = 0x8100;
    private static final int ETH_QINQ = 0x88A8;
    private static final int ETH_QINQ_OLD = 0x9100;

    private static final byte[] EMPTY = new byte[0];

    /** Outcome of the last {@link #decode}. */
    int status;

    static boolean supported(int linktype) {
        return switch (linktype) {
            case LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LOOP, LINKTYPE_LINUX_SLL,
                 LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL2 -> true;
            default -> false;
        };
    }

    /**
     * @param b         buffer holding the captured frame
     * @param off       where the frame starts
     * @param caplen    captured bytes of the frame
     * @param wireLen   length of the frame on the wire (the record's original length)
     * @param linktype  LINKTYPE_ value of the capture
     * @param timestampNanos epoch nanoseconds
     * @param ifindex   for the segment
     */
    Segment decode(byte[] b, int off, int caplen, int wireLen, int linktype, long timestampNanos, int ifindex) {
        int end = off + caplen;
        int p = off;
        int ethertype;
        switch (linktype) {
            case LINKTYPE_ETHERNET -> {
                if (caplen < 14) {
                    return malformed();
                }
                ethertype = u16(b, p + 12);
                p += 14;
            }
            case LINKTYPE_LINUX_SLL -> {
                if (caplen < 16) {
                    return malformed();
                }
                ethertype = u16(b, p + 14);
                p += 16;
            }
            case LINKTYPE_LINUX_SLL2 -> {
                if (caplen < 20) {
                    return malformed();
                }
                ethertype = u16(b, p);
                p += 20;
            }
            case LINKTYPE_NULL, LINKTYPE_LOOP -> {
                if (caplen < 4) {
                    return malformed();
                }
                long family;
                if (linktype == LINKTYPE_LOOP) {
                    family = u32(b, p);
                } else {
                    // Host byte order of the machine that captured: take whichever reading is small.
                    family = u32le(b, p);
                    if (family > 0xFFFF) {
                        family = u32(b, p);
                    }
                }
                p += 4;
                if (family == 2) {
                    ethertype = ETH_IPV4;
                } else if (family == 10 || family == 24 || family == 28 || family == 30) {
                    ethertype = ETH_IPV6; // Linux, NetBSD/OpenBSD, FreeBSD, macOS
                } else {
                    return nonTcp();
                }
            }
            case LINKTYPE_RAW -> {
                if (caplen < 1) {
                    return malformed();
                }
                int version = (b[p] & 0xff) >> 4;
                if (version == 4) {
                    ethertype = ETH_IPV4;
                } else if (version == 6) {
                    ethertype = ETH_IPV6;
                } else {
                    return malformed();
                }
            }
            case LINKTYPE_IPV4 -> ethertype = ETH_IPV4;
            case LINKTYPE_IPV6 -> ethertype = ETH_IPV6;
            default -> {
                return nonTcp();
            }
        }
        // 802.1Q / 802.1ad tags, possibly stacked (Ethernet and the cooked headers alike).
        while (ethertype == ETH_VLAN || ethertype == ETH_QINQ || ethertype == ETH_QINQ_OLD) {
            if (end - p < 4) {
                return malformed();
            }
            ethertype = u16(b, p + 2);
            p += 4;
        }
        int wireIpLen = wireLen - (p - off); // IP packet plus any link padding/trailer on the wire
        if (ethertype == ETH_IPV4) {
            return ipv4(b, p, end, wireIpLen, timestampNanos, ifindex);
        }
        if (ethertype == ETH_IPV6) {
            return ipv6(b, p, end, wireIpLen, timestampNanos, ifindex);
        }
        return nonTcp();
    }

    private Segment ipv4(byte[] b, int p, int end, int wireIpLen, long ts, int ifindex) {
        if (end - p < 20 || (b[p] & 0xf0) != 0x40) {
            return malformed();
        }
        int ihl = (b[p] & 0x0f) * 4;
        if (ihl < 20 || end - p < ihl) {
            return malformed();
        }
        int totalLen = u16(b, p + 2);
        if (totalLen == 0) {
            totalLen = wireIpLen; // TSO / BIG TCP: the length is left to the link
        }
        if (totalLen < ihl) {
            return malformed();
        }
        if ((b[p + 9] & 0xff) != 6) {
            return nonTcp();
        }
        if ((u16(b, p + 6) & 0x1fff) != 0) {
            return nonTcp(); // not the first fragment: no TCP header here
        }
        byte[] src = Arrays.copyOfRange(b, p + 12, p + 16);
        byte[] dst = Arrays.copyOfRange(b, p + 16, p + 20);
        return tcp(b, p + ihl, totalLen - ihl, end, src, dst, ts, ifindex);
    }

    private Segment ipv6(byte[] b, int p, int end, int wireIpLen, long ts, int ifindex) {
        if (end - p < 40 || (b[p] & 0xf0) != 0x60) {
            return malformed();
        }
        int remaining = u16(b, p + 4);
        if (remaining == 0) {
            remaining = wireIpLen - 40; // jumbogram / BIG TCP
            if (remaining < 0) {
                return malformed();
            }
        }
        int next = b[p + 6] & 0xff;
        int q = p + 40;
        while (next != 6) {
            int hlen;
            switch (next) {
                case 0, 43, 60 -> { // hop-by-hop, routing, destination options
                    if (end - q < 2) {
                        return malformed();
                    }
                    hlen = ((b[q + 1] & 0xff) + 1) * 8;
                }
                case 51 -> { // authentication header
                    if (end - q < 2) {
                        return malformed();
                    }
                    hlen = ((b[q + 1] & 0xff) + 2) * 4;
                }
                case 44 -> { // fragment
                    if (end - q < 8) {
                        return malformed();
                    }
                    if ((u16(b, q + 2) >> 3) != 0) {
                        return nonTcp(); // not the first fragment
                    }
                    hlen = 8;
                }
                default -> {
                    return nonTcp(); // UDP, ICMPv6, ESP, no next header, ...
                }
            }
            next = b[q] & 0xff;
            q += hlen;
            remaining -= hlen;
            if (remaining < 0) {
                return malformed();
            }
        }
        byte[] src = Arrays.copyOfRange(b, p + 8, p + 24);
        byte[] dst = Arrays.copyOfRange(b, p + 24, p + 40);
        return tcp(b, q, remaining, end, src, dst, ts, ifindex);
    }

    /**
     * @param t     start of the TCP header
     * @param l4len TCP header plus payload length according to the IP header
     * @param end   end of the captured bytes
     */
    private Segment tcp(byte[] b, int t, int l4len, int end, byte[] src, byte[] dst, long ts, int ifindex) {
        if (l4len < 20 || end - t < 20) {
            return malformed();
        }
        int doff = ((b[t + 12] & 0xff) >> 4) * 4;
        if (doff < 20 || doff > l4len) {
            return malformed();
        }
        int payloadStart = t + doff;
        // Captured payload ends at the IP length (not at Ethernet padding) or at the snap length.
        int capEnd = (int) Math.min(end, (long) t + l4len);
        byte[] payload = payloadStart < capEnd ? Arrays.copyOfRange(b, payloadStart, capEnd) : EMPTY;
        status = OK;
        return new Segment(ts, ifindex, src, dst, u16(b, t), u16(b, t + 2), u32(b, t + 4), u32(b, t + 8),
                b[t + 13] & 0xff, l4len - doff, payload);
    }

    private Segment malformed() {
        status = MALFORMED;
        return null;
    }

    private Segment nonTcp() {
        status = NON_TCP;
        return null;
    }

    static int u16(byte[] b, int i) {
        return ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
    }

    static long u32(byte[] b, int i) {
        return ((long) (b[i] & 0xff) << 24) | ((b[i + 1] & 0xff) << 16) | ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
    }

    static long u32le(byte[] b, int i) {
        return ((long) (b[i + 3] & 0xff) << 24) | ((b[i + 2] & 0xff) << 16) | ((b[i + 1] & 0xff) << 8) | (b[i] & 0xff);
    }
}
