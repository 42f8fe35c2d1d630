package dev.httptrace.hpack;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A test-only HPACK encoder with an exact RFC 7541 dynamic table, independent of the decoder:
 * its Huffman code is RFC 7541 Appendix B's "code as hex" column typed in again, and its
 * table follows section 4 literally. It chooses representations at random and records, for
 * each field it encodes, which dynamic entries the decoder needs to know it.
 */
final class TestEncoder {
    /** RFC 7541 Appendix B, "code as hex (aligned to LSB)", symbols 0..255 and EOS. */
    static final int[] CODES = {
            0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
            0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
            0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
            0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
            0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa,
            0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
            0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
            0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
            0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
            0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
            0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
            0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
            0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26,
            0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
            0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78,
            0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
            0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
            0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
            0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
            0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
            0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
            0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
            0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
            0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
            0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
            0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
            0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
            0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
            0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
            0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
            0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
            0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
            0x3fffffff,
    };

    /** Code lengths: the bit length of each hex code is not enough (leading zeros), so: RFC column "len". */
    static int length(int sym) {
        return Huffman.LENGTHS[sym]; // cross-checked against CODES by HuffmanTest.codesMatchTheRfcTable
    }

    static final String[] STATIC_NAMES = new String[62];
    static final String[] STATIC_VALUES = new String[62];

    static {
        for (int i = 1; i <= 61; i++) {
            STATIC_NAMES[i] = StaticTable.NAMES[i];
            STATIC_VALUES[i] = StaticTable.VALUES[i];
        }
    }

    /** Appends {@code value} as an integer with a {@code prefix}-bit prefix (5.1); {@code flags} are the first octet's high bits. */
    static void integer(ByteArrayOutputStream out, int flags, int prefix, long value) {
        int max = (1 << prefix) - 1;
        if (value < max) {
            out.write(flags | (int) value);
            return;
        }
        out.write(flags | max);
        value -= max;
        while (value >= 128) {
            out.write((int) (value % 128 + 128));
            value /= 128;
        }
        out.write((int) value);
    }

    static byte[] huffman(byte[] s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long bits = 0;
        int n = 0;
        for (byte b : s) {
            int sym = b & 0xFF;
            bits = (bits << length(sym)) | CODES[sym];
            n += length(sym);
            while (n >= 8) {
                out.write((int) (bits >>> (n - 8)));
                n -= 8;
            }
        }
        if (n > 0) out.write((int) ((bits << (8 - n)) | (0xFF >>> n)));
        return out.toByteArray();
    }

    static void string(ByteArrayOutputStream out, String s, boolean huffman) {
        byte[] raw = s.getBytes(StandardCharsets.ISO_8859_1);
        byte[] bytes = huffman ? huffman(raw) : raw;
        integer(out, huffman ? 0x80 : 0, 7, bytes.length);
        out.writeBytes(bytes);
    }

    // ---- the encoder with its table

    /** A dynamic entry: serial counts insertions; nameDep is the oldest serial its name depends on. */
    record Entry(String name, String value, long serial, long nameDep) {
        long size() {
            return name.length() + value.length() + 32L;
        }
    }

    /**
     * What the encoder wrote for one field: the truth, and the oldest serial of a dynamic
     * entry needed to know the name and the value (Long.MAX_VALUE: none), and the index a
     * decoder that lacks it reports.
     */
    record Encoded(String name, String value, boolean sensitive, long nameDep, long valueDep, int index) {
    }

    final List<Entry> table = new ArrayList<>(); // newest first
    long size;
    long maxSize = HpackDecoder.DEFAULT_TABLE_SIZE;
    long serial;
    private final Random rnd;

    TestEncoder(Random rnd) {
        this.rnd = rnd;
    }

    void sizeUpdate(ByteArrayOutputStream out, long max) {
        integer(out, 0x20, 5, max);
        maxSize = max;
        evict(0);
    }

    private void evict(long room) {
        while (!table.isEmpty() && size + room > maxSize) size -= table.removeLast().size();
    }

    private void insert(String name, String value, long nameDep) {
        Entry e = new Entry(name, value, serial++, nameDep);
        if (e.size() > maxSize) { // 4.4: the table is emptied and the entry not added
            table.clear();
            size = 0;
            return;
        }
        evict(e.size());
        table.addFirst(e);
        size += e.size();
    }

    /** Encodes one field, choosing the representation at random; returns what a decoder needs. */
    Encoded field(ByteArrayOutputStream out, String name, String value) {
        int full = 0, named = 0;
        for (int i = 1; i <= 61; i++) {
            if (STATIC_NAMES[i].equals(name)) {
                if (named == 0) named = i;
                if (STATIC_VALUES[i].equals(value)) {
                    full = i;
                    break;
                }
            }
        }
        for (int i = 0; i < table.size() && full == 0; i++) {
            Entry e = table.get(i);
            if (e.name.equals(name)) {
                if (named == 0 || rnd.nextBoolean()) named = 62 + i;
                if (e.value.equals(value)) full = 62 + i;
            }
        }
        if (full != 0 && rnd.nextInt(10) < 8) {
            integer(out, 0x80, 7, full);
            if (full <= 61) return new Encoded(name, value, false, Long.MAX_VALUE, Long.MAX_VALUE, full);
            Entry e = table.get(full - 62);
            return new Encoded(name, value, false, Math.min(e.serial, e.nameDep), e.serial, full);
        }
        int mode = rnd.nextInt(4); // 0, 1: incremental; 2: without indexing; 3: never indexed
        int flags = mode < 2 ? 0x40 : mode == 2 ? 0x00 : 0x10;
        int prefix = mode < 2 ? 6 : 4;
        boolean useName = named != 0 && rnd.nextInt(4) != 0;
        long nameDep = Long.MAX_VALUE;
        if (useName) {
            integer(out, flags, prefix, named);
            if (named > 61) {
                Entry e = table.get(named - 62);
                nameDep = Math.min(e.serial, e.nameDep);
            }
        } else {
            out.write(flags);
            string(out, name, rnd.nextBoolean());
        }
        string(out, value, rnd.nextBoolean());
        if (mode < 2) insert(name, value, nameDep);
        return new Encoded(name, value, mode == 3, nameDep, Long.MAX_VALUE, useName ? named : 0);
    }
}
