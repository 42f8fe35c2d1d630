package dev.httptrace.hpack;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decoder against a random encoder (TestEncoder: random representations, Huffman or not,
 * size updates, evictions under small tables, entries too big for the table). Decoding from
 * block 0 gives exactly the truth; decoding from any block k onward with a decoder that
 * joined mid-way never gives a name or value different from the truth, and gives exactly the
 * truth for everything that depends only on entries inserted at or after block k (and
 * unknown, with the encoder's index, for the rest).
 */
class HpackPropertyTest {
    private static final String[] NAMES = {":method", ":path", ":authority", ":status", "user-agent", "cookie",
            "content-type", "accept", "x-trace", "x-b", "grpc-status"};
    private static final String[] VALUES = {"GET", "POST", "/", "/index.html", "/a", "/b/c?d=e", "200", "404", "",
            "x", "text/html", "application/grpc", "example.com:8080", "curl/8.0"};
    private static final long[] SETTINGS = {4096, 4096, 256, 256, 512, 100, 1024};

    record Run(long settings, List<byte[]> blocks, List<List<TestEncoder.Encoded>> truth, List<Long> firstSerial,
               List<List<TestEncoder.Entry>> tables) {
    }

    @Test
    void decodingFromAnyBlockNeverYieldsAWrongValue() {
        long unknownSeen = 0, resyncs = 0, fields = 0;
        for (int seed = 0; seed < 400; seed++) {
            Random rnd = new Random(seed);
            Run run = generate(rnd);
            checkFromTheStart(run, seed);
            for (int k = 0; k < run.blocks.size(); k++) {
                HpackDecoder d = new HpackDecoder(true, HpackDecoder.Limits.defaults());
                if (rnd.nextBoolean()) d.settingsHeaderTableSize(run.settings);
                long first = run.firstSerial.get(k);
                for (int j = k; j < run.blocks.size(); j++) {
                    byte[] b = run.blocks.get(j);
                    HeaderBlock block = d.decode(b, 0, b.length);
                    String where = "seed " + seed + ", joined at block " + k + ", block " + j;
                    assertFalse(block.error(), where);
                    assertFalse(block.truncated(), where);
                    List<TestEncoder.Encoded> want = run.truth.get(j);
                    assertEquals(want.size(), block.fields().size(), where);
                    int unknown = 0;
                    for (int i = 0; i < want.size(); i++) {
                        TestEncoder.Encoded e = want.get(i);
                        HeaderField f = block.fields().get(i);
                        boolean nameKnown = e.nameDep() >= first, valueKnown = e.valueDep() >= first;
                        String at = where + ", field " + i + " " + e;
                        assertEquals(nameKnown ? e.name() : null, f.name(), at);
                        assertEquals(valueKnown ? e.value() : null, f.value(), at);
                        assertEquals(e.sensitive(), f.sensitive(), at);
                        assertEquals(nameKnown && valueKnown ? 0 : e.index(), f.unknownIndex(), at);
                        if (!nameKnown || !valueKnown) unknown++;
                    }
                    assertEquals(unknown, block.unknownFields(), where);
                    unknownSeen += unknown;
                    fields += want.size();
                }
                assertEquals(0, d.errors());
                resyncs += d.resyncs();
            }
        }
        // The runs must exercise what they claim to.
        assertTrue(unknownSeen > fields / 50, "unknown fields seen: " + unknownSeen + " of " + fields);
        assertTrue(resyncs > 100, "resynchronisations: " + resyncs);
    }

    private static void checkFromTheStart(Run run, int seed) {
        HpackDecoder d = new HpackDecoder(false, HpackDecoder.Limits.defaults());
        if (run.settings != 4096) d.settingsHeaderTableSize(run.settings);
        for (int j = 0; j < run.blocks.size(); j++) {
            byte[] b = run.blocks.get(j);
            HeaderBlock block = d.decode(b, 0, b.length);
            String where = "seed " + seed + ", from the start, block " + j;
            assertFalse(block.error(), where);
            List<TestEncoder.Encoded> want = run.truth.get(j);
            assertEquals(want.size(), block.fields().size(), where);
            for (int i = 0; i < want.size(); i++) {
                TestEncoder.Encoded e = want.get(i);
                assertEquals(new HeaderField(e.name(), e.value(), e.sensitive(), 0), block.fields().get(i), where);
            }
            assertEquals(0, block.unknownFields());
            List<TestEncoder.Entry> table = run.tables.get(j);
            long size = 0;
            for (TestEncoder.Entry e : table) size += e.size();
            assertTrue(d.tableEntries() >= table.size(), where + ": keeps at least the encoder's entries");
            for (int i = 0; i < table.size(); i++) {
                assertEquals(table.get(i).name(), d.entryName(i + 1), where);
                assertEquals(table.get(i).value(), d.entryValue(i + 1), where);
            }
            // Knowing every size exactly, it evicts exactly as the encoder.
            assertEquals(table.size(), d.tableEntries(), where);
            assertEquals(size, d.tableSize(), where);
            assertTrue(d.synced());
        }
    }

    static Run generate(Random rnd) {
        long settings = SETTINGS[rnd.nextInt(SETTINGS.length)];
        TestEncoder enc = new TestEncoder(rnd);
        List<byte[]> blocks = new ArrayList<>();
        List<List<TestEncoder.Encoded>> truth = new ArrayList<>();
        List<Long> firstSerial = new ArrayList<>();
        List<List<TestEncoder.Entry>> tables = new ArrayList<>();
        int n = 5 + rnd.nextInt(30);
        for (int b = 0; b < n; b++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            firstSerial.add(enc.serial);
            if (b == 0 && settings < enc.maxSize) {
                enc.sizeUpdate(out, rnd.nextInt(4) == 0 ? settings / 2 : settings); // the lower SETTINGS must be obeyed
            } else if (rnd.nextInt(8) == 0) {
                if (rnd.nextBoolean()) enc.sizeUpdate(out, rnd.nextInt(3) == 0 ? 0 : rnd.nextLong(settings + 1));
                enc.sizeUpdate(out, rnd.nextInt(6) == 0 ? 0 : rnd.nextLong(settings + 1));
            }
            List<TestEncoder.Encoded> fields = new ArrayList<>();
            int count = 1 + rnd.nextInt(10);
            for (int i = 0; i < count; i++) fields.add(enc.field(out, name(rnd), value(rnd)));
            blocks.add(out.toByteArray());
            truth.add(fields);
            tables.add(List.copyOf(enc.table));
        }
        return new Run(settings, blocks, truth, firstSerial, tables);
    }

    private static String name(Random rnd) {
        if (rnd.nextInt(10) == 0) return "x-" + rnd.nextInt(1000);
        return NAMES[rnd.nextInt(NAMES.length)];
    }

    private static String value(Random rnd) {
        int r = rnd.nextInt(12);
        if (r < 8) return VALUES[rnd.nextInt(VALUES.length)];
        // Any octets (ISO-8859-1), some long enough to evict everything or not fit at all.
        int len = r < 10 ? rnd.nextInt(40) : 150 + rnd.nextInt(150);
        char[] c = new char[len];
        for (int i = 0; i < len; i++) c[i] = (char) rnd.nextInt(256);
        return new String(c);
    }
}
