package dev.httptrace.capture;

import java.io.BufferedOutputStream;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Writes captured segments as a pcapng file ({@code -w}) that Wireshark, tshark and
 * {@code httptrace -r} read.
 *
 * <p>The socket filter keeps no link header, so each segment is written as a raw IP packet
 * (link type 101): an IPv4 or IPv6 header and a 20-byte TCP header rebuilt from the
 * segment's fields (addresses, ports, sequence and acknowledgement numbers, flags), then
 * the captured payload. The original length counts the whole payload, so a payload the
 * snap length cut reads back as cut. TCP options are not kept and the TCP checksum is 0
 * (Wireshark does not check it by default). Timestamps have nanosecond resolution. One
 * interface description per interface seen, named as the trace names it ({@code if_name}).
 *
 * <p>Buffered: {@link #flush} once per poll batch. Not thread-safe.
 */
public final class PcapngWriter implements Flushable, AutoCloseable {

    private static final int LINKTYPE_RAW = 101;
    private static final int SNAPLEN = 65_535 + 60;
    private static final int IP4_HEADER = 20, IP6_HEADER = 40, TCP_HEADER = 20;

    private final OutputStream out;
    private final IntFunction<String> interfaceNames;
    private final Map<Integer, Integer> interfaceIds = new HashMap<>();
    private ByteBuffer block = ByteBuffer.allocate(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);

    /**
     * Writes the section header.
     *
     * @param interfaceNames the name of an interface by ifindex, or null when unknown
     */
    public PcapngWriter(OutputStream out, IntFunction<String> interfaceNames) throws IOException {
        this.out = new BufferedOutputStream(out, 64 * 1024);
        this.interfaceNames = interfaceNames;
        sectionHeader();
    }

    private void sectionHeader() throws IOException {
        ByteBuffer b = begin(0x0A0D0D0A);
        b.putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0).putLong(-1L); // BOM, v1.0, length unknown
        option(b, 4, "httptrace".getBytes(StandardCharsets.UTF_8)); // shb_userappl
        endOptions(b);
        end(b);
    }

    /** Writes one segment (and, the first time its interface is seen, that interface's description). */
    public void write(Segment s) throws IOException {
        int id = interfaceId(s.ifindex());
        boolean v6 = s.ipv6();
        int ipHeader = v6 ? IP6_HEADER : IP4_HEADER;
        int captured = ipHeader + TCP_HEADER + s.capturedLength();
        long original = (long) ipHeader + TCP_HEADER + s.payloadLength();
        ByteBuffer b = begin(6); // enhanced packet block
        ensure(captured + 64);
        b = block;
        b.putInt(id);
        b.putInt((int) (s.timestampNanos() >>> 32)).putInt((int) s.timestampNanos());
        b.putInt(captured).putInt((int) Math.min(original, 0xffff_ffffL));
        b.order(ByteOrder.BIG_ENDIAN);
        int ipStart = b.position();
        if (v6) {
            b.putInt(0x6000_0000).putShort((short) Math.min(TCP_HEADER + s.payloadLength(), 0xffff))
             .put((byte) 6).put((byte) 64).put(s.srcAddr()).put(s.dstAddr());
        } else {
            b.put((byte) 0x45).put((byte) 0).putShort((short) Math.min(original, 0xffff))
             .putShort((short) 0).putShort((short) 0x4000).put((byte) 64).put((byte) 6).putShort((short) 0)
             .put(s.srcAddr()).put(s.dstAddr());
            b.putShort(ipStart + 10, ipv4Checksum(b, ipStart));
        }
        b.putShort((short) s.srcPort()).putShort((short) s.dstPort())
         .putInt((int) s.seq()).putInt((int) s.ack())
         .put((byte) 0x50).put((byte) s.flags()).putShort((short) 0xffff) // data offset 5, window
         .putShort((short) 0).putShort((short) 0); // checksum, urgent pointer
        b.put(s.payload(), s.payloadOffset(), s.capturedLength());
        b.order(ByteOrder.LITTLE_ENDIAN);
        pad(b);
        endOptions(b);
        end(b);
    }

    private int interfaceId(int ifindex) throws IOException {
        Integer id = interfaceIds.get(ifindex);
        if (id != null) {
            return id;
        }
        int next = interfaceIds.size();
        ByteBuffer b = begin(1); // interface description block
        b.putShort((short) LINKTYPE_RAW).putShort((short) 0).putInt(SNAPLEN);
        String name = interfaceNames == null ? null : interfaceNames.apply(ifindex);
        if (name != null) {
            option(b, 2, name.getBytes(StandardCharsets.UTF_8)); // if_name
        }
        option(b, 9, new byte[] {9}); // if_tsresol: 10^-9 s
        endOptions(b);
        end(b);
        interfaceIds.put(ifindex, next);
        return next;
    }

    private ByteBuffer begin(int type) {
        block.clear();
        block.putInt(type).putInt(0); // length filled in by end()
        return block;
    }

    private void ensure(int more) {
        if (block.remaining() < more) {
            ByteBuffer bigger = ByteBuffer.allocate(block.capacity() + more + 1024).order(ByteOrder.LITTLE_ENDIAN);
            block.flip();
            bigger.put(block);
            block = bigger;
        }
    }

    private static void option(ByteBuffer b, int code, byte[] value) {
        b.putShort((short) code).putShort((short) value.length).put(value);
        pad(b);
    }

    private static void endOptions(ByteBuffer b) {
        b.putShort((short) 0).putShort((short) 0);
    }

    private static void pad(ByteBuffer b) {
        while (b.position() % 4 != 0) {
            b.put((byte) 0);
        }
    }

    private void end(ByteBuffer b) throws IOException {
        int length = b.position() + 4;
        b.putInt(length);
        b.putInt(4, length);
        out.write(b.array(), 0, length);
    }

    private static short ipv4Checksum(ByteBuffer b, int start) {
        int sum = 0;
        for (int i = 0; i < IP4_HEADER; i += 2) {
            sum += b.getShort(start + i) & 0xffff;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (short) ~sum;
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
