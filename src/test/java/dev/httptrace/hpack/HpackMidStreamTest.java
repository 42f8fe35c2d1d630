package dev.httptrace.hpack;

import org.junit.jupiter.api.Test;

import static dev.httptrace.hpack.Hpack.assertFields;
import static dev.httptrace.hpack.Hpack.assertTable;
import static dev.httptrace.hpack.Hpack.decode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A decoder that joined a connection mid-way (or lost header bytes) reports what it cannot
 * know as unknown, never as a guess, and keeps its table in step with the encoder's.
 */
class HpackMidStreamTest {
    private static HpackDecoder joined() {
        return new HpackDecoder(true, HpackDecoder.Limits.defaults());
    }

    @Test
    void referencesToEntriesFromBeforeTheJoinAreUnknownAndCounted() {
        HpackDecoder d = joined();
        assertFalse(d.synced());
        // The research's block: GET, then dynamic 69, then :scheme http, then 68, 67, 66.
        HeaderBlock b = decode(d, "82 c5 86 c4 c3 c2");
        assertFields(b, ":method: GET", "?: ? #69", ":scheme: http", "?: ? #68", "?: ? #67", "?: ? #66");
        assertEquals(4, b.unknownFields());
        assertEquals(4, d.unknownFields());
        assertEquals(0, d.errors());
    }

    @Test
    void entriesInsertedAfterTheJoinResolveExactly() {
        HpackDecoder d = joined();
        // C.3.1 seen mid-way: :authority inserted, then referenced as 62; 63 is from before.
        assertFields(decode(d, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"),
                ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com");
        assertFields(decode(d, "be bf"), ":authority: www.example.com", "?: ? #63");
        assertTable(d, 57, ":authority: www.example.com");
        assertFalse(d.synced());
    }

    @Test
    void aLiteralWithAnUnknownNameIsStillInsertedAndResolvesToItsValue() {
        HpackDecoder d = joined();
        // 0x7f 0x07 = literal with incremental indexing, name index 63 + 7 = 70 (unknown), value "v1".
        HeaderBlock b = decode(d, "7f07 0276 31");
        assertFields(b, "?: v1 #70");
        assertEquals(1, b.unknownFields());
        // It is entry 62 now; the entry that was 62 before (a reference now to 63) is unknown.
        assertFields(decode(d, "be bf 8c"), "?: v1 #62", "?: ? #63", ":status: 400");
        // A literal named by that placeholder: name still unknown, value known.
        assertFields(decode(d, "7e02 7632"), "?: v2 #62"); // name index 62, value "v2"
        assertFields(decode(d, "be bf"), "?: v2 #62", "?: v1 #63");
        assertTable(d, 32 + 2 + 32 + 2, "?: v2", "?: v1"); // sizes are lower bounds: names unknown
    }

    @Test
    void aLiteralWithAKnownNameAfterAMissKeepsInserting() {
        HpackDecoder d = joined();
        // Beyla's trap: after a miss, keep inserting, or indices drift and give stale values.
        assertFields(decode(d, "c8 4403 2f78 31"), "?: ? #72", ":path: /x1");
        assertFields(decode(d, "4403 2f78 32 be bf c0"), ":path: /x2", ":path: /x2", ":path: /x1", "?: ? #64");
    }

    @Test
    void aSizeUpdateToZeroResynchronises() {
        HpackDecoder d = joined();
        decode(d, "c5");
        HeaderBlock b = decode(d, "20 3fe1 1f 4403 2f78 31 be"); // update to 0, then to 4096, insert, reference
        assertFields(b, ":path: /x1", ":path: /x1");
        assertTrue(d.synced());
        assertEquals(1, d.resyncs());
        // Now a reference beyond the known entries cannot be an unseen entry: it is an error.
        HeaderBlock bad = decode(d, "82 bf 82");
        assertTrue(bad.error());
        assertEquals(1, bad.fields().size(), "the fields before the error");
        assertEquals(1, d.errors());
        assertFalse(d.synced(), "after an error the table is unknown again");
        assertFields(decode(d, "be 82"), "?: ? #62", ":method: GET");
    }

    @Test
    void knownEntriesFillingAKnownMaximumResynchronise() {
        HpackDecoder d = joined();
        decode(d, "3f21"); // size update to 31 + 33 = 64: one entry of 32..64 octets at most
        assertFalse(d.synced(), "a 64-octet table may still hold one old entry of 32 octets");
        assertFields(decode(d, "4403 2f78 31"), ":path: /x1"); // 5 + 3 + 32 = 40 octets
        assertTrue(d.synced(), "40 known + 32 > 64: nothing older fits");
        assertEquals(1, d.resyncs());
    }

    @Test
    void theSettingsLimitBoundsTheTableWhenNoSizeUpdateWasSeen() {
        HpackDecoder d = joined();
        d.settingsHeaderTableSize(100);
        assertFalse(d.synced());
        decode(d, "4403 2f78 31"); // 40 octets: 40 + 32 <= 100, an old entry may remain
        assertFalse(d.synced());
        decode(d, "4403 2f78 32"); // 80 octets: no room for another
        assertTrue(d.synced());
        decode(d, "4403 2f78 33"); // 120 > 100: the oldest is provably evicted
        assertTable(d, 80, ":path: /x3", ":path: /x2");
    }

    @Test
    void withoutAnyKnownMaximumNothingIsEvictedBelowTheMemoryCap() {
        HpackDecoder d = joined();
        // 200 entries of ~40 octets (8000 > 4096): a decoder that assumed 4096 would evict; this one keeps them.
        for (int i = 0; i < 200; i++) decode(d, String.format("4403 2f%02x 31", i & 0x7f));
        assertEquals(200, d.tableEntries());
        assertFalse(d.synced());
        // With 64 KiB of entries, the oldest go, and they count as unknown from then on.
        for (int i = 0; i < 2000; i++) decode(d, "4403 2f78 31");
        assertTrue(d.tableSize() <= HpackDecoder.MIN_TABLE_CAP);
    }

    @Test
    void lostBytesMakeTheTableUnknown() {
        HpackDecoder d = new HpackDecoder(false, HpackDecoder.Limits.defaults());
        assertTrue(d.synced());
        decode(d, "4403 2f78 31");
        d.lost();
        assertFalse(d.synced());
        assertEquals(-1, d.maxTableSize(), "a lost block may have changed the maximum");
        assertFields(decode(d, "be 84"), "?: ? #62", ":path: /");
        assertEquals(0, d.errors());
    }

    @Test
    void aDecoderFromTheStartErrsOnAReferenceToANonexistentEntry() {
        HpackDecoder d = new HpackDecoder(false, HpackDecoder.Limits.defaults());
        HeaderBlock b = decode(d, "82 be");
        assertTrue(b.error());
        assertEquals(1, b.fields().size());
        assertEquals(1, d.errors());
        assertFalse(d.synced());
    }

    @Test
    void neverIndexedLiteralsAreSensitiveWithoutIndexingNot() {
        HpackDecoder d = joined();
        // 0x1f 0x08 = never indexed, name index 15 + 8 = 23 (authorization); 0x0f 0x08: without indexing.
        assertFields(decode(d, "1f08 0178 0f08 0179 1f2f 017a"), "authorization: x !", "authorization: y", "?: z #62 !");
        assertEquals(0, d.tableEntries());
    }
}
