package dev.httptrace.hpack;

import com.code_intelligence.jazzer.junit.FuzzTest;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzz test (Jazzer): no input may make the HPACK decoder throw, exceed its limits, report
 * unknown fields inconsistently, or, having joined mid-way, report a value different from
 * what a decoder that saw everything reports.
 *
 * <p>A plain {@code mvn test} runs it in regression mode: once on the empty input and once on
 * every file under
 * {@code src/test/resources/dev/httptrace/hpack/HpackDecoderFuzzTestInputs/decode/}. To fuzz
 * for real: {@code JAZZER_FUZZ=1 mvn test -Dtest=HpackDecoderFuzzTest#decode}.
 */
class HpackDecoderFuzzTest {
    /**
     * Byte 0: bit 0 = small limits, bit 1 = SETTINGS_HEADER_TABLE_SIZE from bytes 1..2 first.
     * Then records {@code [control][length: 2 octets][block]}; control bit 0 = the capture lost
     * bytes before this block ({@code lost()}), bit 1 = a SETTINGS of {@code length * 4} instead
     * of a block. Every block goes to a decoder that saw the connection from its start and to
     * one that joined mid-way.
     */
    @FuzzTest(maxDuration = "10m")
    void decode(byte[] input) {
        boolean small = input.length > 0 && (input[0] & 1) != 0;
        HpackDecoder.Limits limits = small ? new HpackDecoder.Limits(300, 6, 24) : HpackDecoder.Limits.defaults();
        HpackDecoder full = new HpackDecoder(false, limits);
        HpackDecoder joined = new HpackDecoder(true, limits);
        int i = 1;
        if (input.length > 2 && (input[0] & 2) != 0) {
            long settings = ((input[1] & 0xFF) << 8 | (input[2] & 0xFF)) * 4L;
            full.settingsHeaderTableSize(settings);
            joined.settingsHeaderTableSize(settings);
            i = 3;
        }
        // The full decoder is the truth while it has seen everything and decoded everything.
        boolean truth = true;
        long blocks = 0, errors = 0, unknown = 0;
        while (i + 2 < input.length) {
            int control = input[i] & 0xFF;
            int length = Math.min((input[i + 1] & 0xFF) << 8 | (input[i + 2] & 0xFF), input.length - i - 3);
            int off = i + 3;
            i = off + length;
            if ((control & 1) != 0) {
                full.lost();
                joined.lost();
                truth = false;
            }
            if ((control & 2) != 0) {
                full.settingsHeaderTableSize(length * 4L);
                joined.settingsHeaderTableSize(length * 4L);
                continue;
            }
            HeaderBlock f = full.decode(input, off, length);
            HeaderBlock j = joined.decode(input, off, length);
            check(f, limits);
            check(j, limits);
            blocks++;
            errors += (j.error() ? 1 : 0);
            unknown += j.unknownFields();
            if (truth) {
                if (f.error()) truth = false;
                for (int k = 0; k < Math.min(f.fields().size(), j.fields().size()); k++) {
                    HeaderField a = f.fields().get(k), b = j.fields().get(k);
                    assertTrue(b.name() == null || b.name().equals(a.name()), "joined: a different name");
                    assertTrue(b.value() == null || b.value().equals(a.value()), "joined: a different value");
                    assertEquals(a.sensitive(), b.sensitive());
                }
            }
            assertTrue(full.tableSize() <= HpackDecoder.MAX_TABLE_CAP && joined.tableSize() <= HpackDecoder.MAX_TABLE_CAP);
            if (full.synced() && full.maxTableSize() >= 0) assertTrue(full.tableSize() <= full.maxTableSize());
        }
        assertEquals(blocks, joined.blocks());
        assertEquals(errors, joined.errors());
        assertEquals(unknown, joined.unknownFields());
    }

    private static void check(HeaderBlock block, HpackDecoder.Limits limits) {
        assertTrue(block.fields().size() <= limits.maxFields());
        long bytes = 0;
        int unknown = 0;
        for (HeaderField f : block.fields()) {
            bytes += 32 + (f.name() == null ? 0 : f.name().length()) + (f.value() == null ? 0 : f.value().length());
            // maxStringBytes bounds literals; static names (up to 27 octets) are shared constants.
            assertTrue(f.name() == null || f.name().length() <= limits.maxStringBytes()
                    || java.util.Arrays.asList(StaticTable.NAMES).contains(f.name()));
            assertTrue(f.value() == null || f.value().length() <= limits.maxStringBytes());
            if (f.unknown()) {
                unknown++;
                assertTrue(f.unknownIndex() > 0, "an unknown field says which index");
            } else {
                assertEquals(0, f.unknownIndex());
            }
            assertTrue(f.name() == null || f.name().chars().allMatch(c -> c < 256), "octets as ISO-8859-1");
        }
        assertTrue(bytes <= limits.maxHeaderListBytes());
        assertEquals(unknown, block.unknownFields());
    }
}
