package dev.httptrace.capture;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds packets and capture files byte by byte for the capture tests: TCP in IPv4/IPv6
 * in Ethernet (with VLAN tags), Linux cooked v1/v2, BSD loopback, raw IP; pcap and pcapng
 * files in either byte order.
 */
final class Frames {

    private Frames() {}

    static byte[] ip(String literal) {
        return InetAddress.ofLiteral(literal).getAddress();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    private static ByteBuffer be(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.BIG_ENDIAN);
    }

    // ---- TCP / IP -------------------------------------------------------------------

    /** A TCP header (with optionsLen bytes of NOP options, a multiple of 4) plus payload. */
    static byte[] tcp(int srcPort, int dstPort, long seq, long ack, int flags, int optionsLen, byte[] payload) {
        int hl = 20 + optionsLen;
        ByteBuffer b = be(hl + payload.length);
        b.putShort((short) srcPort).putShort((short) dstPort).putInt((int) seq).putInt((int) ack);
        b.put((byte) ((hl / 4) << 4)).put((byte) flags).putShort((short) 65535).putShort((short) 0xBEEF).putShort((short) 0);
        for (int i = 0; i < optionsLen; i++) {
            b.put((byte) 1);
        }
        b.put(payload);
        return b.array();
    }

    static byte[] tcp(int srcPort, int dstPort, long seq, long ack, int flags, byte[] payload) {
        return tcp(srcPort, dstPort, seq, ack, flags, 0, payload);
    }

    /** IPv4 with optionsLen (multiple of 4) bytes of options; protocol and fragment field given. */
    static byte[] ipv4(byte[] src, byte[] dst, int protocol, int optionsLen, int fragField, byte[] l4) {
        int hl = 20 + optionsLen;
        ByteBuffer b = be(hl + l4.length);
        b.put((byte) (0x40 | hl / 4)).put((byte) 0).putShort((short) (hl + l4.length)).putShort((short) 0x1234)
                .putShort((short) fragField).put((byte) 64).put((byte) protocol).putShort((short) 0).put(src).put(dst);
        for (int i = 0; i < optionsLen; i++) {
            b.put((byte) 1);
        }
        b.put(l4);
        return b.array();
    }

    static byte[] ipv4(String src, String dst, byte[] tcp) {
        return ipv4(ip(src), ip(dst), 6, 0, 0x4000 /* DF */, tcp);
    }

    /** IPv6; ext is a chain of extension headers already built (see {@link #ext}), first is its type. */
    static byte[] ipv6(byte[] src, byte[] dst, int firstNext, byte[] ext, byte[] l4) {
        ByteBuffer b = be(40 + ext.length + l4.length);
        b.putInt(0x60000000).putShort((short) (ext.length + l4.length)).put((byte) firstNext).put((byte) 64)
                .put(src).put(dst).put(ext).put(l4);
        return b.array();
    }

    static byte[] ipv6(String src, String dst, byte[] tcp) {
        return ipv6(ip(src), ip(dst), 6, new byte[0], tcp);
    }

    /** An options-style extension header (hop-by-hop 0, routing 43, destination 60) of 8*(units+1) bytes. */
    static byte[] ext(int next, int units) {
        byte[] h = new byte[8 * (units + 1)];
        h[0] = (byte) next;
        h[1] = (byte) units;
        h[2] = 1; // PadN
        h[3] = (byte) (h.length - 4);
        return h;
    }

    static byte[] fragmentHeader(int next, int offsetUnits, boolean more) {
        ByteBuffer b = be(8);
        b.put((byte) next).put((byte) 0).putShort((short) ((offsetUnits << 3) | (more ? 1 : 0))).putInt(0xCAFE);
        return b.array();
    }

    // ---- link layers ----------------------------------------------------------------

    static final byte[] MAC_A = {2, 0, 0, 0, 0, 1};
    static final byte[] MAC_B = {2, 0, 0, 0, 0, 2};

    /** Ethernet II with the given VLAN tag protocol ids (outermost first), padded to 60 bytes. */
    static byte[] eth(int ethertype, byte[] payload, int... vlanTpids) {
        ByteBuffer b = be(14 + 4 * vlanTpids.length + payload.length);
        b.put(MAC_A).put(MAC_B);
        for (int i = 0; i < vlanTpids.length; i++) {
            b.putShort((short) vlanTpids[i]).putShort((short) (100 + i));
        }
        b.putShort((short) ethertype).put(payload);
        byte[] f = b.array();
        return f.length < 60 ? Arrays.copyOf(f, 60) : f;
    }

    static byte[] eth4(byte[] ipPacket) {
        return eth(0x0800, ipPacket);
    }

    static byte[] sll(int ethertype, byte[] payload) {
        ByteBuffer b = be(16 + payload.length);
        b.putShort((short) 0).putShort((short) 1).putShort((short) 6).put(MAC_A).putShort((short) 0)
                .putShort((short) ethertype).put(payload);
        return b.array();
    }

    static byte[] sll2(int ethertype, byte[] payload) {
        ByteBuffer b = be(20 + payload.length);
        b.putShort((short) ethertype).putShort((short) 0).putInt(7).putShort((short) 1).put((byte) 4).put((byte) 6)
                .put(MAC_A).putShort((short) 0).put(payload);
        return b.array();
    }

    /** BSD loopback header: family in the given byte order. */
    static byte[] bsdLoop(int family, ByteOrder order, byte[] payload) {
        return concat(ByteBuffer.allocate(4).order(order).putInt(family).array(), payload);
    }

    // ---- files ----------------------------------------------------------------------

    /** A classic pcap file. */
    static final class Pcap {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteOrder order;
        private final boolean nanos;

        Pcap(ByteOrder order, boolean nanos, int linktype, int snaplen) {
            this.order = order;
            this.nanos = nanos;
            out.writeBytes(ByteBuffer.allocate(24).order(order)
                    .putInt(nanos ? 0xA1B23C4D : 0xA1B2C3D4).putShort((short) 2).putShort((short) 4)
                    .putInt(0).putInt(0).putInt(snaplen).putInt(linktype).array());
        }

        Pcap(int linktype) {
            this(ByteOrder.LITTLE_ENDIAN, false, linktype, 262144);
        }

        /** A record with the whole frame captured. */
        Pcap add(long epochNanos, byte[] frame) {
            return add(epochNanos, frame, frame.length, frame.length);
        }

        /** A record holding the first caplen bytes of a frame that was wireLen long. */
        Pcap add(long epochNanos, byte[] frame, int caplen, int wireLen) {
            long sec = Math.floorDiv(epochNanos, 1_000_000_000L);
            long frac = Math.floorMod(epochNanos, 1_000_000_000L);
            out.writeBytes(ByteBuffer.allocate(16).order(order).putInt((int) sec)
                    .putInt((int) (nanos ? frac : frac / 1000)).putInt(caplen).putInt(wireLen).array());
            out.write(frame, 0, caplen);
            return this;
        }

        Pcap raw(byte[] bytes) {
            out.writeBytes(bytes);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    /** A pcapng file; each section has its own byte order. */
    static final class Pcapng {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private ByteOrder order;

        Pcapng(ByteOrder order) {
            section(order);
        }

        Pcapng section(ByteOrder order) {
            this.order = order;
            ByteBuffer body = ByteBuffer.allocate(16).order(order)
                    .putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0).putLong(-1);
            return block(0x0A0D0D0A, body.array(), options(2 /* shb_hardware */, ascii("test")));
        }

        /** An option list (code, value pairs) ending in opt_endofopt. */
        byte[] options(Object... codeValue) {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            for (int i = 0; i < codeValue.length; i += 2) {
                byte[] v = (byte[]) codeValue[i + 1];
                o.writeBytes(ByteBuffer.allocate(4).order(order).putShort((short) (int) (Integer) codeValue[i])
                        .putShort((short) v.length).array());
                o.writeBytes(v);
                o.writeBytes(new byte[(4 - v.length % 4) % 4]);
            }
            if (codeValue.length > 0) {
                o.writeBytes(new byte[4]);
            }
            return o.toByteArray();
        }

        Pcapng idb(int linktype, int snaplen, byte[] options) {
            return block(1, ByteBuffer.allocate(8).order(order).putShort((short) linktype).putShort((short) 0)
                    .putInt(snaplen).array(), options);
        }

        Pcapng idb(int linktype, String name) {
            return idb(linktype, 0, name == null ? new byte[0] : options(2, ascii(name)));
        }

        byte[] tsresol(int v) {
            return new byte[]{(byte) v};
        }

        byte[] i64(long v) {
            return ByteBuffer.allocate(8).order(order).putLong(v).array();
        }

        Pcapng epb(int ifid, long units, byte[] frame) {
            return epb(ifid, units, frame, frame.length, frame.length);
        }

        Pcapng epb(int ifid, long units, byte[] frame, int caplen, int wireLen) {
            ByteBuffer h = ByteBuffer.allocate(20).order(order).putInt(ifid).putInt((int) (units >>> 32))
                    .putInt((int) units).putInt(caplen).putInt(wireLen);
            return block(6, h.array(), pad(Arrays.copyOf(frame, caplen)), options(1 /* opt_comment */, ascii("hi")));
        }

        Pcapng opb(int ifid, long units, byte[] frame) {
            ByteBuffer h = ByteBuffer.allocate(20).order(order).putShort((short) ifid).putShort((short) 0)
                    .putInt((int) (units >>> 32)).putInt((int) units).putInt(frame.length).putInt(frame.length);
            return block(2, h.array(), pad(frame));
        }

        Pcapng spb(byte[] frame, int wireLen) {
            return block(3, ByteBuffer.allocate(4).order(order).putInt(wireLen).array(), pad(frame));
        }

        static byte[] pad(byte[] b) {
            return Arrays.copyOf(b, (b.length + 3) & ~3);
        }

        /** A block of the given type around the given body parts (each already padded). */
        Pcapng block(int type, byte[]... body) {
            byte[] all = concat(body);
            int len = 12 + all.length;
            out.writeBytes(ByteBuffer.allocate(8).order(order).putInt(type).putInt(len).array());
            out.writeBytes(all);
            out.writeBytes(ByteBuffer.allocate(4).order(order).putInt(len).array());
            return this;
        }

        Pcapng raw(byte[] bytes) {
            out.writeBytes(bytes);
            return this;
        }

        ByteOrder order() {
            return order;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
