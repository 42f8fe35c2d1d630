package dev.httptrace.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * HTTP/2 bytes for tests, written by hand: frames, and header blocks whose fields are static
 * table references or literals, with or without indexing, so a test controls exactly what the
 * decoder's table holds.
 */
public final class H2 {
    private H2() {}

    public static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    public static final int DATA = 0, HEADERS = 1, PRIORITY = 2, RST_STREAM = 3, SETTINGS = 4, PUSH_PROMISE = 5,
            PING = 6, GOAWAY = 7, WINDOW_UPDATE = 8, CONTINUATION = 9;
    public static final int END_STREAM = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY_FLAG = 0x20;

    /** Static table entries that name and value match (RFC 7541 Appendix A). */
    private static final Map<String, Integer> STATIC = Map.ofEntries(
            Map.entry(":method GET", 2), Map.entry(":method POST", 3), Map.entry(":path /", 4),
            Map.entry(":scheme http", 6), Map.entry(":scheme https", 7), Map.entry(":status 200", 8),
            Map.entry(":status 204", 9), Map.entry(":status 304", 11), Map.entry(":status 404", 13),
            Map.entry(":status 500", 14));

    public static byte[] frame(int type, int flags, int stream, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >>> 16);
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) (stream >>> 24 & 0x7F);
        f[6] = (byte) (stream >>> 16);
        f[7] = (byte) (stream >>> 8);
        f[8] = (byte) stream;
        System.arraycopy(payload, 0, f, 9, payload.length);
        return f;
    }

    public static byte[] settings(int... idValuePairs) {
        byte[] p = new byte[idValuePairs.length * 3];
        for (int i = 0; i < idValuePairs.length; i += 2) {
            int at = i * 3;
            p[at] = (byte) (idValuePairs[i] >>> 8);
            p[at + 1] = (byte) idValuePairs[i];
            p[at + 2] = (byte) (idValuePairs[i + 1] >>> 24);
            p[at + 3] = (byte) (idValuePairs[i + 1] >>> 16);
            p[at + 4] = (byte) (idValuePairs[i + 1] >>> 8);
            p[at + 5] = (byte) idValuePairs[i + 1];
        }
        return frame(SETTINGS, 0, 0, p);
    }

    /** HEADERS with END_HEADERS (and END_STREAM when {@code end}). */
    public static byte[] headers(int stream, boolean end, byte[] block) {
        return frame(HEADERS, END_HEADERS | (end ? END_STREAM : 0), stream, block);
    }

    public static byte[] data(int stream, boolean end, byte[] payload) {
        return frame(DATA, end ? END_STREAM : 0, stream, payload);
    }

    public static byte[] data(int stream, boolean end, String payload) {
        return data(stream, end, payload.getBytes(StandardCharsets.ISO_8859_1));
    }

    public static byte[] rst(int stream, int error) {
        return frame(RST_STREAM, 0, stream, u32(error));
    }

    public static byte[] goAway(int lastStream, int error) {
        byte[] p = new byte[8];
        System.arraycopy(u32(lastStream), 0, p, 0, 4);
        System.arraycopy(u32(error), 0, p, 4, 4);
        return frame(GOAWAY, 0, 0, p);
    }

    public static byte[] windowUpdate(int stream, int increment) {
        return frame(WINDOW_UPDATE, 0, stream, u32(increment));
    }

    /** A gRPC length-prefixed message (not compressed). */
    public static byte[] grpcMessage(int length) {
        byte[] m = new byte[5 + length];
        System.arraycopy(u32(length), 0, m, 1, 4);
        return m;
    }

    /**
     * A header block, "name value" per field: a static reference when the pair is in the static
     * table, else a literal without indexing (new name).
     */
    public static byte[] block(String... fields) {
        Block b = new Block();
        for (String f : fields) {
            int sp = f.indexOf(' ', 1);
            b.field(f.substring(0, sp), f.substring(sp + 1));
        }
        return b.bytes();
    }

    /** Concatenation. */
    public static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    private static byte[] u32(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    /** A header block built field by field with the representation a test asks for. */
    public static final class Block {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        /** A static reference when the pair is in the static table, else a literal without indexing. */
        public Block field(String name, String value) {
            Integer i = STATIC.get(name + " " + value);
            if (i != null) return indexed(i);
            out.write(0x00);
            string(name);
            string(value);
            return this;
        }

        /** Indexed field (static 1..61, dynamic 62..). */
        public Block indexed(int index) {
            integer(0x80, 7, index);
            return this;
        }

        /** Literal with incremental indexing, new name: the decoder's table gets the entry. */
        public Block inserted(String name, String value) {
            out.write(0x40);
            string(name);
            string(value);
            return this;
        }

        /** Literal never indexed, new name: a sensitive field. */
        public Block neverIndexed(String name, String value) {
            out.write(0x10);
            string(name);
            string(value);
            return this;
        }

        public byte[] bytes() {
            return out.toByteArray();
        }

        private void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
            integer(0x00, 7, b.length);
            out.writeBytes(b);
        }

        private void integer(int flags, int prefix, int value) {
            int max = (1 << prefix) - 1;
            if (value < max) {
                out.write(flags | value);
                return;
            }
            out.write(flags | max);
            value -= max;
            while (value >= 128) {
                out.write(value % 128 + 128);
                value /= 128;
            }
            out.write(value);
        }
    }
}
