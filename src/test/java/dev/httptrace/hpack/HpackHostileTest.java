package dev.httptrace.hpack;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.Random;

import static dev.httptrace.hpack.Hpack.assertFields;
import static dev.httptrace.hpack.Hpack.decode;
import static dev.httptrace.hpack.Hpack.hex;
import static dev.httptrace.hpack.Hpack.show;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** Hostile input: bounded, counted, never an exception, and the table stays in step where it can. */
class HpackHostileTest {
    private static HpackDecoder fresh() {
        return new HpackDecoder(false, HpackDecoder.Limits.defaults());
    }

    @Test
    void aHugeLengthPrefixIsAnErrorNotAnAllocation() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x00); // literal without indexing, literal name
        TestEncoder.integer(out, 0, 7, 1 << 30); // a 1 GiB name, 3 octets follow
        out.writeBytes(new byte[]{'a', 'b', 'c'});
        byte[] b = out.toByteArray();
        for (boolean joined : new boolean[]{false, true}) {
            HpackDecoder d = new HpackDecoder(joined, HpackDecoder.Limits.defaults());
            HeaderBlock block = d.decode(b, 0, b.length);
            assertTrue(block.error());
            assertEquals(0, block.fields().size());
            assertEquals(1, d.errors());
        }
        // The same with a Huffman flag, and as a value.
        assertTrue(decode(fresh(), "00 ff ffff ff03 61").error());
        assertTrue(decode(fresh(), "44 ff ffff ff03 61").error());
    }

    @Test
    void integerOverflowIsAnError() {
        assertTrue(decode(fresh(), "ff ffff ffff ff0f").error(), "more than 2^31");
        assertTrue(decode(fresh(), "ff 8080 8080 8000").error(), "more than 5 continuation octets");
        assertTrue(decode(fresh(), "ff 80").error(), "ends inside the integer");
        assertTrue(decode(fresh(), "80").error(), "index 0");
        // 2^31 - 1 is a valid integer: an index beyond any table, unknown when joined, an error from the start.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TestEncoder.integer(out, 0x80, 7, Integer.MAX_VALUE);
        byte[] b = out.toByteArray();
        assertTrue(fresh().decode(b, 0, b.length).error());
        HeaderBlock joined = new HpackDecoder(true, HpackDecoder.Limits.defaults()).decode(b, 0, b.length);
        assertFields(joined, "?: ? #" + Integer.MAX_VALUE);
    }

    @Test
    void aTruncatedRepresentationIsAnError() {
        HpackDecoder d = fresh();
        HeaderBlock b = decode(d, "82 400a 6375 7374");
        assertTrue(b.error());
        assertEquals(1, b.fields().size(), "the field before the error");
        assertTrue(decode(fresh(), "82 40").error(), "no name");
        assertTrue(decode(fresh(), "82 4003 616263").error(), "no value");
    }

    @Test
    void sizeUpdatesBeyondSettingsAreErrors() {
        assertFields(decode(fresh(), "3fe1 1f"), new String[0]); // 4096: the default limit
        assertTrue(decode(fresh(), "3fe2 1f").error(), "4097 > the default 4096");
        HpackDecoder d = fresh();
        d.settingsHeaderTableSize(256);
        assertFields(decode(d, "3fe1 1f"), new String[0]); // still in flight: the old limit, until the encoder obeys
        assertFields(decode(d, "3fe1 01"), new String[0]); // 256: obeyed
        assertTrue(decode(d, "3fe2 01").error(), "257 > 256");
        assertTrue(decode(d, "3fe1 1f").error(), "the old limit no longer holds");
        HpackDecoder joined = new HpackDecoder(true, HpackDecoder.Limits.defaults());
        joined.settingsHeaderTableSize(100);
        assertTrue(decode(joined, "3f46").error(), "31 + 70 = 101 > 100");
    }

    @Test
    void aSizeUpdateAfterAFieldIsAnError() {
        HpackDecoder d = fresh();
        HeaderBlock b = decode(d, "82 20");
        assertTrue(b.error());
        assertEquals(1, b.fields().size());
        assertFields(decode(fresh(), "20 3fe1 1f 82"), ":method: GET"); // several at the start are fine
    }

    @Test
    void aHundredThousandTinyFieldsAreBoundedByTheLimits() {
        byte[] b = new byte[100_000];
        java.util.Arrays.fill(b, (byte) 0x82);
        HpackDecoder d = fresh();
        HeaderBlock block = assertTimeoutPreemptively(java.time.Duration.ofSeconds(5), () -> d.decode(b, 0, b.length));
        assertTrue(block.truncated());
        assertFalse(block.error());
        assertEquals(1024, block.fields().size());
        HpackDecoder small = new HpackDecoder(false, new HpackDecoder.Limits(42 * 10, 1024, 100));
        assertEquals(10, small.decode(b, 0, b.length).fields().size(), "10 x (7 + 3 + 32) octets");
    }

    @Test
    void fieldsDroppedOverTheLimitsAreStillInserted() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 50; i++) {
            out.write(0x44); // :path, incremental indexing
            TestEncoder.string(out, "/" + i, i % 2 == 0);
        }
        byte[] b = out.toByteArray();
        HpackDecoder d = new HpackDecoder(false, new HpackDecoder.Limits(64 * 1024, 5, 1024));
        HeaderBlock block = d.decode(b, 0, b.length);
        assertTrue(block.truncated());
        assertEquals(5, block.fields().size());
        assertFields(decode(d, "be c0"), ":path: /49", ":path: /47");
    }

    @Test
    void stringsOverTheLimitAreNeverMaterialisedButKeepTheTableInStep() {
        HpackDecoder d = new HpackDecoder(false, new HpackDecoder.Limits(64 * 1024, 1024, 16));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x44);
        TestEncoder.string(out, "/" + "x".repeat(40), true); // 41 octets > 16, Huffman-coded
        out.write(0x82);
        byte[] b = out.toByteArray();
        HeaderBlock block = d.decode(b, 0, b.length);
        assertTrue(block.truncated());
        assertFalse(block.error());
        assertEquals(0, block.fields().size(), "the long field and all after it are dropped");
        assertEquals(5 + 41 + 32, d.tableSize(), "its size is exact");
        assertEquals(java.util.List.of(":path: ? #62", ":method: GET"), show(decode(d, "be 82")));
        assertTrue(decode(d, "44 8f" + "ff".repeat(15)).error(), "invalid Huffman is still an error when too long");
    }

    @Test
    void continuationSizedGarbageNeverThrows() {
        Random rnd = new Random(9113);
        byte[] b = new byte[16384];
        for (int i = 0; i < 300; i++) {
            rnd.nextBytes(b);
            for (boolean joined : new boolean[]{false, true}) {
                HpackDecoder d = new HpackDecoder(joined, HpackDecoder.Limits.defaults());
                for (int j = 0; j < 4; j++) {
                    int off = rnd.nextInt(b.length), len = rnd.nextInt(b.length - off + 1);
                    HeaderBlock block = d.decode(b, off, len);
                    assertTrue(block.fields().size() <= 1024);
                    assertTrue(d.tableSize() <= HpackDecoder.MAX_TABLE_CAP);
                }
            }
        }
    }

    @Test
    void badArgumentsAreAnErrorBlock() {
        HpackDecoder d = fresh();
        assertTrue(d.decode(null, 0, 0).error());
        assertTrue(d.decode(hex("82"), -1, 1).error());
        assertTrue(d.decode(hex("82"), 0, 2).error());
        assertTrue(d.decode(hex("82"), 1, -1).error());
        assertEquals(4, d.errors());
        assertEquals(4, d.blocks());
        assertFields(d.decode(hex("82"), 0, 1), ":method: GET");
        assertFields(d.decode(hex("82"), 1, 0), new String[0]);
    }

    @Test
    void aTableSizeFromSettingsFarOverTheCapStillBoundsMemory() {
        HpackDecoder d = fresh();
        d.settingsHeaderTableSize(1L << 40);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TestEncoder.integer(out, 0x20, 5, 1 << 24); // the encoder takes a 16 MiB table
        for (int i = 0; i < 30_000; i++) {
            out.write(0x44);
            TestEncoder.string(out, "/" + i + "-".repeat(40), false);
        }
        byte[] b = out.toByteArray();
        d.decode(b, 0, b.length);
        assertTrue(d.tableSize() <= HpackDecoder.MAX_TABLE_CAP);
        assertFalse(d.synced(), "entries evicted for memory may still be the encoder's");
        assertFields(decode(d, "be"), ":path: /29999" + "-".repeat(40));
    }
}
