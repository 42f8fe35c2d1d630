package dev.httptrace.hpack;

import org.junit.jupiter.api.Test;

import static dev.httptrace.hpack.Hpack.assertFields;
import static dev.httptrace.hpack.Hpack.assertTable;
import static dev.httptrace.hpack.Hpack.decode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RFC 7541 Appendix C: every example, fields and dynamic table after each block. */
class HpackRfcVectorsTest {
    private static HpackDecoder fresh() {
        return new HpackDecoder(false, HpackDecoder.Limits.defaults());
    }

    @Test
    void c21LiteralWithIndexing() {
        HpackDecoder d = fresh();
        assertFields(decode(d, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"),
                "custom-key: custom-header");
        assertTable(d, 55, "custom-key: custom-header");
    }

    @Test
    void c22LiteralWithoutIndexing() {
        HpackDecoder d = fresh();
        assertFields(decode(d, "040c 2f73 616d 706c 652f 7061 7468"), ":path: /sample/path");
        assertTable(d, 0);
    }

    @Test
    void c23LiteralNeverIndexedIsSensitive() {
        HpackDecoder d = fresh();
        assertFields(decode(d, "1008 7061 7373 776f 7264 0673 6563 7265 74"), "password: secret !");
        assertTable(d, 0);
    }

    @Test
    void c24Indexed() {
        HpackDecoder d = fresh();
        assertFields(decode(d, "82"), ":method: GET");
        assertTable(d, 0);
    }

    @Test
    void c3RequestsWithoutHuffman() {
        HpackDecoder d = fresh();
        assertFields(decode(d, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"),
                ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com");
        assertTable(d, 57, ":authority: www.example.com");
        assertFields(decode(d, "8286 84be 5808 6e6f 2d63 6163 6865"),
                ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com", "cache-control: no-cache");
        assertTable(d, 110, "cache-control: no-cache", ":authority: www.example.com");
        assertFields(decode(d, "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"),
                ":method: GET", ":scheme: https", ":path: /index.html", ":authority: www.example.com",
                "custom-key: custom-value");
        assertTable(d, 164, "custom-key: custom-value", "cache-control: no-cache", ":authority: www.example.com");
        assertCounters(d, 3);
    }

    @Test
    void c4RequestsWithHuffman() {
        HpackDecoder d = fresh();
        assertFields(decode(d, "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"),
                ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com");
        assertTable(d, 57, ":authority: www.example.com");
        assertFields(decode(d, "8286 84be 5886 a8eb 1064 9cbf"),
                ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com", "cache-control: no-cache");
        assertTable(d, 110, "cache-control: no-cache", ":authority: www.example.com");
        assertFields(decode(d, "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"),
                ":method: GET", ":scheme: https", ":path: /index.html", ":authority: www.example.com",
                "custom-key: custom-value");
        assertTable(d, 164, "custom-key: custom-value", "cache-control: no-cache", ":authority: www.example.com");
        assertCounters(d, 3);
    }

    /** C.5 and C.6 use SETTINGS_HEADER_TABLE_SIZE = 256 (the encoder's maximum, signalled before). */
    private static HpackDecoder table256() {
        HpackDecoder d = fresh();
        d.settingsHeaderTableSize(256);
        assertFields(decode(d, "3fe1 01"), new String[0]); // size update to 256 (31 + 225)
        assertEquals(256, d.maxTableSize());
        return d;
    }

    @Test
    void c5ResponsesWithoutHuffmanAndEvictions() {
        HpackDecoder d = table256();
        assertFields(decode(d, "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133"
                        + "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"),
                ":status: 302", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT",
                "location: https://www.example.com");
        assertTable(d, 222, "location: https://www.example.com", "date: Mon, 21 Oct 2013 20:13:21 GMT",
                "cache-control: private", ":status: 302");
        assertFields(decode(d, "4803 3330 37c1 c0bf"),
                ":status: 307", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT",
                "location: https://www.example.com");
        assertTable(d, 222, ":status: 307", "location: https://www.example.com",
                "date: Mon, 21 Oct 2013 20:13:21 GMT", "cache-control: private");
        assertFields(decode(d, "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d"
                        + "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049"
                        + "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31"),
                ":status: 200", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:22 GMT",
                "location: https://www.example.com", "content-encoding: gzip",
                "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1");
        assertTable(d, 215, "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
                "content-encoding: gzip", "date: Mon, 21 Oct 2013 20:13:22 GMT");
        assertCounters(d, 4);
    }

    @Test
    void c6ResponsesWithHuffmanAndEvictions() {
        HpackDecoder d = table256();
        assertFields(decode(d, "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6"
                        + "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"),
                ":status: 302", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT",
                "location: https://www.example.com");
        assertTable(d, 222, "location: https://www.example.com", "date: Mon, 21 Oct 2013 20:13:21 GMT",
                "cache-control: private", ":status: 302");
        assertFields(decode(d, "4883 640e ffc1 c0bf"),
                ":status: 307", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT",
                "location: https://www.example.com");
        assertTable(d, 222, ":status: 307", "location: https://www.example.com",
                "date: Mon, 21 Oct 2013 20:13:21 GMT", "cache-control: private");
        assertFields(decode(d, "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab"
                        + "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f"
                        + "9587 3160 65c0 03ed 4ee5 b106 3d50 07"),
                ":status: 200", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:22 GMT",
                "location: https://www.example.com", "content-encoding: gzip",
                "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1");
        assertTable(d, 215, "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
                "content-encoding: gzip", "date: Mon, 21 Oct 2013 20:13:22 GMT");
        assertCounters(d, 4);
    }

    private static void assertCounters(HpackDecoder d, long blocks) {
        assertEquals(blocks, d.blocks());
        assertEquals(0, d.errors());
        assertEquals(0, d.unknownFields());
        assertEquals(0, d.resyncs());
        assertTrue(d.synced());
    }
}
