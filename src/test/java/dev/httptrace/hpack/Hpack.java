package dev.httptrace.hpack;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Helpers for the HPACK tests. */
final class Hpack {
    private Hpack() {
    }

    /** Hex with any whitespace, as the RFC prints it. */
    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replaceAll("\\s+", ""));
    }

    static HeaderBlock decode(HpackDecoder d, String hex) {
        byte[] b = hex(hex);
        return d.decode(b, 0, b.length);
    }

    /** "name: value" per field; "?" for an unknown name or value, "#N" appended for the index, "!" for sensitive. */
    static List<String> show(HeaderBlock block) {
        List<String> out = new ArrayList<>();
        for (HeaderField f : block.fields()) {
            out.add((f.name() == null ? "?" : f.name()) + ": " + (f.value() == null ? "?" : f.value())
                    + (f.unknownIndex() != 0 ? " #" + f.unknownIndex() : "") + (f.sensitive() ? " !" : ""));
        }
        return out;
    }

    /** A block that decoded cleanly into exactly these fields. */
    static void assertFields(HeaderBlock block, String... fields) {
        assertFalse(block.error(), "no error");
        assertFalse(block.truncated(), "not truncated");
        assertEquals(List.of(fields), show(block));
    }

    /** The decoder's known dynamic table, newest first, and its size. */
    static void assertTable(HpackDecoder d, long size, String... entries) {
        List<String> table = new ArrayList<>();
        for (int i = 1; i <= d.tableEntries(); i++) {
            table.add((d.entryName(i) == null ? "?" : d.entryName(i)) + ": " + (d.entryValue(i) == null ? "?" : d.entryValue(i)));
        }
        assertEquals(List.of(entries), table);
        assertEquals(size, d.tableSize(), "table size");
    }
}
