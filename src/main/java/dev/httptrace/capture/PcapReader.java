package dev.httptrace.capture;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads the TCP segments of a capture file: classic pcap (either byte order, microsecond or
 * nanosecond timestamps) or pcapng; gzip-compressed files are decompressed on the fly.
 *
 * <p>Link types: Ethernet (with stacked 802.1Q/802.1ad tags), Linux cooked v1 and v2, BSD
 * loopback (NULL and LOOP), raw IP, IPv4, IPv6. IPv4 options and IPv6 hop-by-hop, routing,
 * destination-options and authentication headers are skipped; IP fragments other than the
 * first carry no TCP header and are skipped. A segment's payload is the captured bytes
 * within the IP length (Ethernet padding excluded) and its payloadLength comes from the IP
 * header, so a capture cut by its snap length gives payloads shorter than payloadLength.
 *
 * <p>pcapng: sections (in either byte order, switching byte order between sections),
 * interface descriptions (link type, snap length, {@code if_tsresol} in decimal and
 * power-of-two form, {@code if_tsoffset}, {@code if_name}), enhanced, simple and obsolete
 * packet blocks; all other blocks are skipped. A segment's ifindex is 1 + the position of
 * its interface among all interface descriptions of the file (in a single-section file:
 * the interface id + 1), and {@link #interfaceName} names it. Classic pcap segments have
 * ifindex 0. Simple packet blocks have no timestamp: they get that of the packet before.
 *
 * <p>Only an unreadable stream or a bad file header throws. Malformed and truncated
 * records are counted ({@link #stats}) and skipped; a record whose framing cannot be
 * trusted (a length that cannot be, a file cut short) ends the reading there.
 *
 * <p>Not thread-safe.
 */
public final class PcapReader implements AutoCloseable {

    /** Packets, records that carry no TCP segment, and malformed or truncated records. */
    public record Stats(long packets, long nonTcp, long malformed) {}

    private static final int PCAP_MAGIC_US = 0xA1B2C3D4;
    private static final int PCAP_MAGIC_NS = 0xA1B23C4D;
    private static final int PCAP_MAGIC_MODIFIED = 0xA1B2CD34;
    private static final int PCAPNG_SHB = 0x0A0D0D0A;
    private static final int PCAPNG_BOM = 0x1A2B3C4D;

    private static final int BT_IDB = 1;
    private static final int BT_OPB = 2;
    private static final int BT_SPB = 3;
    private static final int BT_EPB = 6;

    private static final int OPT_END = 0;
    private static final int IF_NAME = 2;
    private static final int IF_TSRESOL = 9;
    private static final int IF_TSOFFSET = 14;

    /** Largest pcapng block or pcap record read; a larger length means the file is corrupt. */
    static final int MAX_BLOCK = 16 * 1024 * 1024;
    /**
     * Interface descriptions kept; more make the file malformed from there on (packet blocks
     * name interfaces by position, so a flood of them would otherwise hold memory without bound).
     */
    static final int MAX_INTERFACES = 4096;
    /** Longest if_name kept, in bytes. */
    static final int MAX_INTERFACE_NAME = 256;
    /** libpcap's largest snap length for ordinary link types. */
    private static final int PCAP_DEFAULT_MAX_PACKET = 262_144;

    private static final long[] POW10 = new long[19];

    static {
        POW10[0] = 1;
        for (int i = 1; i < POW10.length; i++) {
            POW10[i] = POW10[i - 1] * 10;
        }
    }

    private final InputStream in;
    private boolean pcapng;
    private final FrameDecoder decoder = new FrameDecoder();
    private byte[] buf = new byte[64 * 1024];
    private boolean ended;

    private long packets;
    private long nonTcp;
    private long malformed;

    // Classic pcap.
    private boolean bigEndian;
    private boolean nanoResolution;
    private int pcapLinktype;
    private int pcapMaxRecord;

    // pcapng: every interface of the file, and those of the current section by id.
    private final List<Interface> interfaces = new ArrayList<>();
    private final List<Interface> section = new ArrayList<>();
    private long lastTimestamp;

    private record Interface(int ifindex, int linktype, int snaplen, int tsresol, long tsoffsetSeconds, String name) {}

    /**
     * Reads the file header.
     *
     * @throws IOException when the stream cannot be read, or is not a pcap/pcapng file
     *                     of a version and link type this reader supports
     */
    public PcapReader(InputStream in) throws IOException {
        try {
            in = open(in);
        } catch (IOException e) {
            throw described(e);
        }
        this.in = in;
        try {
            readFileHeader();
        } catch (IOException e) {
            throw described(e);
        }
    }

    /** The stream, decompressed when it starts like gzip. */
    private InputStream open(InputStream in) throws IOException {
        InputStream s = new BufferedInputStream(in, 64 * 1024);
        s.mark(4);
        byte[] m = s.readNBytes(4);
        if (m.length >= 2 && (m[0] & 0xff) == 0x1f && (m[1] & 0xff) == 0x8b) {
            s.reset();
            s = new BufferedInputStream(new GZIPInputStream(s, 64 * 1024), 64 * 1024);
        } else {
            s.reset();
        }
        return s;
    }

    private void readFileHeader() throws IOException {
        byte[] m = in.readNBytes(4);
        if (m.length < 4) {
            throw new IOException("not a capture file: " + (m.length == 0 ? "empty" : "only " + m.length + " bytes"));
        }
        int magic = (int) FrameDecoder.u32(m, 0);
        if (magic == PCAPNG_SHB) {
            pcapng = true;
            if (!readSectionHeader(true)) {
                throw new IOException("not a pcapng file: bad section header block");
            }
            return;
        }
        if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
            bigEndian = true;
        } else if (Integer.reverseBytes(magic) == PCAP_MAGIC_US || Integer.reverseBytes(magic) == PCAP_MAGIC_NS) {
            bigEndian = false;
            magic = Integer.reverseBytes(magic);
        } else if (magic == PCAP_MAGIC_MODIFIED || Integer.reverseBytes(magic) == PCAP_MAGIC_MODIFIED) {
            throw new IOException("unsupported capture file: modified (Kuznetzov) pcap; convert it with editcap -F pcap");
        } else {
            throw new IOException(String.format(
                    "not a pcap or pcapng capture file (starts with %02x %02x %02x %02x)", m[0], m[1], m[2], m[3]));
        }
        nanoResolution = magic == PCAP_MAGIC_NS;
        byte[] h = this.in.readNBytes(20);
        if (h.length < 20) {
            throw new IOException("truncated pcap file header");
        }
        int major = u16(h, 0);
        if (major != 2) {
            throw new IOException("unsupported pcap version " + major + "." + u16(h, 2));
        }
        long snaplen = u32(h, 12);
        pcapLinktype = (int) (u32(h, 16) & 0xFFFF); // upper bits: FCS length, irrelevant here
        if (!FrameDecoder.supported(pcapLinktype)) {
            throw new IOException("unsupported pcap link type " + pcapLinktype + " (" + linktypeName(pcapLinktype)
                    + "); supported: EN10MB (1), LINUX_SLL (113), LINUX_SLL2 (276), NULL (0), LOOP (108),"
                    + " RAW (101), IPV4 (228), IPV6 (229)");
        }
        pcapMaxRecord = (int) Math.min(MAX_BLOCK, Math.max(snaplen, PCAP_DEFAULT_MAX_PACKET));
    }

    private static String linktypeName(int t) {
        return switch (t) {
            case 105 -> "IEEE802_11";
            case 127 -> "IEEE802_11_RADIOTAP";
            case 9 -> "PPP";
            case 220 -> "USB_LINUX_MMAPPED";
            default -> "unknown";
        };
    }

    /** The next TCP segment, or null at the end of the file. */
    public Segment next() throws IOException {
        try {
            while (!ended) {
                Segment s = pcapng ? nextBlock() : nextRecord();
                if (s != null) {
                    return s;
                }
            }
            return null;
        } catch (IOException e) {
            throw described(e);
        }
    }

    /** An exception whose message says what went wrong (a corrupt gzip stream may throw one without). */
    private static IOException described(IOException e) {
        if (e.getMessage() != null && !e.getMessage().isBlank()) {
            return e;
        }
        return new IOException("corrupt or truncated data (" + e.getClass().getSimpleName() + ")", e);
    }

    public Stats stats() {
        return new Stats(packets, nonTcp, malformed);
    }

    /**
     * The pcapng {@code if_name} of the interface a segment's ifindex refers to
     * (ifindex = interface id + 1 in single-section files), or null when the file names
     * none (always for classic pcap).
     */
    public String interfaceName(int ifindex) {
        return ifindex >= 1 && ifindex <= interfaces.size() ? interfaces.get(ifindex - 1).name() : null;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    // ---- classic pcap ----------------------------------------------------------------

    private Segment nextRecord() throws IOException {
        int n = in.readNBytes(buf, 0, 16);
        if (n < 16) {
            if (n > 0) {
                malformed++; // cut inside a record header
            }
            ended = true;
            return null;
        }
        packets++;
        long sec = u32(buf, 0);
        long frac = u32(buf, 4);
        long caplen = u32(buf, 8);
        long wireLen = u32(buf, 12);
        if (caplen > pcapMaxRecord) {
            malformed++; // the file is corrupt from here on: no way to find the next record
            ended = true;
            return null;
        }
        int len = (int) caplen;
        if (!readFully(len)) {
            malformed++;
            ended = true;
            return null;
        }
        long ts = sec * 1_000_000_000L + (nanoResolution ? frac : frac * 1000);
        return decode(0, len, (int) Math.min(Integer.MAX_VALUE, Math.max(wireLen, caplen)), pcapLinktype, ts, 0);
    }

    private Segment decode(int off, int caplen, int wireLen, int linktype, long ts, int ifindex) {
        Segment s = decoder.decode(buf, off, caplen, wireLen, linktype, ts, ifindex);
        if (s == null) {
            if (decoder.status == FrameDecoder.MALFORMED) {
                malformed++;
            } else {
                nonTcp++;
            }
        }
        return s;
    }

    // ---- pcapng ----------------------------------------------------------------------

    /**
     * Reads one block; returns its segment if it is a packet block holding one.
     * Called with the stream positioned at a block start.
     */
    private Segment nextBlock() throws IOException {
        int n = in.readNBytes(buf, 0, 8);
        if (n < 8) {
            if (n > 0) {
                malformed++;
            }
            ended = true;
            return null;
        }
        int type = (int) u32(buf, 0);
        if (type == PCAPNG_SHB) {
            if (!readSectionHeader(false)) {
                malformed++;
                ended = true;
            }
            return null;
        }
        long length = u32(buf, 4);
        boolean packet = type == BT_EPB || type == BT_SPB || type == BT_OPB;
        if (packet) {
            packets++;
        }
        if (length < 12 || length % 4 != 0 || length > MAX_BLOCK) {
            malformed++;
            ended = true;
            return null;
        }
        int bodyLen = (int) length - 12;
        if (!readFully(bodyLen + 4)) {
            malformed++;
            ended = true;
            return null;
        }
        if (u32(buf, bodyLen) != length) {
            malformed++; // trailing length disagrees: framing lost
            ended = true;
            return null;
        }
        return switch (type) {
            case BT_IDB -> {
                if (interfaces.size() >= MAX_INTERFACES) {
                    malformed++;
                    ended = true;
                } else {
                    readInterface(bodyLen);
                }
                yield null;
            }
            case BT_EPB -> enhancedPacket(bodyLen);
            case BT_SPB -> simplePacket(bodyLen);
            case BT_OPB -> obsoletePacket(bodyLen);
            default -> null; // statistics, name resolution, decryption secrets, custom, ...
        };
    }

    /**
     * Reads a section header block whose 4-byte type was just read (at the start of the
     * file) or whose type and length were read into buf[0..8) (later). Sets the byte order
     * and starts a new interface list.
     *
     * @return false when the block is not a section header this reader can follow
     */
    private boolean readSectionHeader(boolean first) throws IOException {
        byte[] lenAndBom = new byte[8];
        if (first) {
            if (in.readNBytes(lenAndBom, 0, 8) < 8) {
                return false;
            }
        } else {
            System.arraycopy(buf, 4, lenAndBom, 0, 4);
            if (in.readNBytes(lenAndBom, 4, 4) < 4) {
                return false;
            }
        }
        int bom = (int) FrameDecoder.u32(lenAndBom, 4);
        if (bom == PCAPNG_BOM) {
            bigEndian = true;
        } else if (Integer.reverseBytes(bom) == PCAPNG_BOM) {
            bigEndian = false;
        } else {
            return false;
        }
        long length = u32(lenAndBom, 0);
        if (length < 28 || length % 4 != 0 || length > MAX_BLOCK) {
            return false;
        }
        int rest = (int) length - 12; // after type, length, byte-order magic
        if (!readFully(rest) || u32(buf, rest - 4) != length) {
            return false;
        }
        int major = u16(buf, 0);
        if (major != 1) {
            if (first) {
                throw new IOException("unsupported pcapng version " + major + "." + u16(buf, 2));
            }
            return false;
        }
        section.clear();
        return true;
    }

    private void readInterface(int bodyLen) {
        int linktype = -1;
        int snaplen = 0;
        int tsresol = 6;
        long tsoffset = 0;
        String name = null;
        if (bodyLen < 8) {
            malformed++;
        } else {
            linktype = u16(buf, 0);
            snaplen = (int) Math.min(Integer.MAX_VALUE, u32(buf, 4));
            int p = 8;
            while (p + 4 <= bodyLen) {
                int code = u16(buf, p);
                int len = u16(buf, p + 2);
                int v = p + 4;
                if (code == OPT_END || v + len > bodyLen) {
                    break;
                }
                switch (code) {
                    case IF_NAME -> {
                        int e = v + len;
                        while (e > v && buf[e - 1] == 0) {
                            e--;
                        }
                        e = Math.min(e, v + MAX_INTERFACE_NAME);
                        name = e > v ? new String(buf, v, e - v, StandardCharsets.UTF_8) : null;
                    }
                    case IF_TSRESOL -> {
                        if (len >= 1) {
                            tsresol = buf[v] & 0xff;
                        }
                    }
                    case IF_TSOFFSET -> {
                        if (len >= 8) {
                            tsoffset = u64(buf, v);
                        }
                    }
                    default -> { }
                }
                p = v + ((len + 3) & ~3);
            }
        }
        // Always add it, even when broken: packet blocks name interfaces by position.
        Interface i = new Interface(interfaces.size() + 1, linktype, snaplen, tsresol, tsoffset, name);
        interfaces.add(i);
        section.add(i);
    }

    private Segment enhancedPacket(int bodyLen) {
        if (bodyLen < 20) {
            return malformedPacket();
        }
        long id = u32(buf, 0);
        long caplen = u32(buf, 12);
        long wireLen = u32(buf, 16);
        if (id >= section.size() || caplen > bodyLen - 20) {
            return malformedPacket();
        }
        Interface i = section.get((int) id);
        long ts = timestamp(i, (u32(buf, 4) << 32) | u32(buf, 8));
        return packet(i, 20, (int) caplen, wireLen, ts);
    }

    private Segment obsoletePacket(int bodyLen) {
        if (bodyLen < 20) {
            return malformedPacket();
        }
        int id = u16(buf, 0);
        long caplen = u32(buf, 12);
        long wireLen = u32(buf, 16);
        if (id >= section.size() || caplen > bodyLen - 20) {
            return malformedPacket();
        }
        Interface i = section.get(id);
        long ts = timestamp(i, (u32(buf, 4) << 32) | u32(buf, 8));
        return packet(i, 20, (int) caplen, wireLen, ts);
    }

    private Segment simplePacket(int bodyLen) {
        if (bodyLen < 4 || section.isEmpty()) {
            return malformedPacket();
        }
        Interface i = section.get(0);
        long wireLen = u32(buf, 0);
        long caplen = Math.min(wireLen, bodyLen - 4);
        if (i.snaplen() > 0) {
            caplen = Math.min(caplen, i.snaplen());
        }
        return packet(i, 4, (int) caplen, wireLen, lastTimestamp);
    }

    private Segment packet(Interface i, int off, int caplen, long wireLen, long ts) {
        lastTimestamp = ts;
        if (i.linktype() < 0) {
            return malformedPacket(); // its interface description was broken
        }
        if (!FrameDecoder.supported(i.linktype())) {
            nonTcp++;
            return null;
        }
        int wire = (int) Math.min(Integer.MAX_VALUE, Math.max(wireLen, caplen));
        return decode(off, caplen, wire, i.linktype(), ts, i.ifindex());
    }

    private Segment malformedPacket() {
        malformed++;
        return null;
    }

    /** Converts a pcapng timestamp in the interface's units to epoch nanoseconds. */
    static long timestampNanos(long units, int tsresol, long tsoffsetSeconds) {
        long ns;
        int e = tsresol & 0x7f;
        if ((tsresol & 0x80) == 0) { // 10^-e seconds
            if (e <= 9) {
                ns = units * POW10[9 - e];
            } else if (e - 9 < POW10.length) {
                ns = Long.divideUnsigned(units, POW10[e - 9]);
            } else {
                ns = 0;
            }
        } else { // 2^-e seconds: units * 1e9 / 2^e with a 128-bit product
            long hi = Math.unsignedMultiplyHigh(units, 1_000_000_000L);
            long lo = units * 1_000_000_000L;
            if (e == 0) {
                ns = lo;
            } else if (e < 64) {
                ns = (hi << (64 - e)) | (lo >>> e);
            } else {
                ns = hi >>> (e - 64);
            }
        }
        return ns + tsoffsetSeconds * 1_000_000_000L;
    }

    private long timestamp(Interface i, long units) {
        return timestampNanos(units, i.tsresol(), i.tsoffsetSeconds());
    }

    // ---- bytes -----------------------------------------------------------------------

    /**
     * Reads {@code n} bytes into {@code buf[0, n)}; false when the file ends first. The buffer
     * grows as bytes arrive, not by the length a block claims: a hostile length in a short file
     * costs no more memory than the file's own bytes (and never more than {@link #MAX_BLOCK} + 4).
     */
    private boolean readFully(int n) throws IOException {
        int have = 0;
        while (have < n) {
            if (have == buf.length) {
                buf = java.util.Arrays.copyOf(buf, (int) Math.min(n, 2L * buf.length));
            }
            int want = Math.min(n, buf.length) - have;
            int got = in.readNBytes(buf, have, want);
            have += got;
            if (got < want) {
                return false;
            }
        }
        return true;
    }

    /** Capacity of the read buffer: what the largest block read so far cost. */
    int bufferCapacity() {
        return buf.length;
    }

    private int u16(byte[] b, int i) {
        return bigEndian ? ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff) : ((b[i + 1] & 0xff) << 8) | (b[i] & 0xff);
    }

    private long u32(byte[] b, int i) {
        return bigEndian ? FrameDecoder.u32(b, i) : FrameDecoder.u32le(b, i);
    }

    private long u64(byte[] b, int i) {
        return bigEndian ? (u32(b, i) << 32) | u32(b, i + 4) : (u32(b, i + 4) << 32) | u32(b, i);
    }
}
