package dev.httptrace.hpack;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static dev.httptrace.hpack.Hpack.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** RFC 7541 5.2 and Appendix B: the Huffman code, decoded by the state table. */
class HuffmanTest {
    @Test
    void codesMatchTheRfcTable() {
        // The decoder derives its codes from the lengths (canonical code); the RFC lists them.
        for (int sym = 0; sym <= Huffman.EOS; sym++) {
            assertEquals(TestEncoder.CODES[sym], Huffman.CODES[sym], "code of symbol " + sym);
        }
        assertEquals(30, Huffman.LENGTHS[Huffman.EOS]);
        assertEquals(0x3fffffff, Huffman.CODES[Huffman.EOS]);
    }

    @Test
    void everySymbolRoundTrips() {
        for (int sym = 0; sym < 256; sym++) {
            byte[] one = {(byte) sym};
            assertArrayEquals(one, decode(TestEncoder.huffman(one)), "symbol " + sym);
            byte[] three = {(byte) sym, 'a', (byte) sym}; // at every bit offset the code can start
            assertArrayEquals(three, decode(TestEncoder.huffman(three)), "symbol " + sym + " inside");
        }
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) all[i] = (byte) i;
        assertArrayEquals(all, decode(TestEncoder.huffman(all)));
    }

    @Test
    void randomStringsRoundTrip() {
        Random rnd = new Random(7541);
        for (int i = 0; i < 2000; i++) {
            byte[] s = new byte[rnd.nextInt(64)];
            rnd.nextBytes(s);
            byte[] enc = TestEncoder.huffman(s);
            assertArrayEquals(s, decode(enc));
            assertEquals(s.length, Huffman.decodedLength(enc, 0, enc.length));
        }
    }

    @Test
    void emptyStringIsValid() {
        assertArrayEquals(new byte[0], decode(new byte[0]));
    }

    @Test
    void eosInAStringIsRejected() {
        assertEquals(-1, Huffman.decode(hex("ffffffff"), 0, 4, new byte[16]), "EOS + 2 bits of padding");
        // 'a' (00011) then EOS (30 ones) then 5 ones of padding: 00011111 11111111 11111111 11111111 11111111
        assertEquals(-1, Huffman.decode(hex("1fffffffff"), 0, 5, new byte[16]), "EOS after a symbol");
        assertEquals(-1, Huffman.decodedLength(hex("1fffffffff"), 0, 5));
    }

    @Test
    void badPaddingIsRejected() {
        assertArrayEquals(new byte[]{'a'}, decode(hex("1f")), "'a' + 3 one bits: valid");
        assertEquals(-1, Huffman.decode(hex("18"), 0, 1, new byte[16]), "padding of zeros");
        assertEquals(-1, Huffman.decode(hex("1a"), 0, 1, new byte[16]), "padding not all ones");
        assertEquals(-1, Huffman.decode(hex("1fff"), 0, 2, new byte[16]), "11 bits of padding");
        assertEquals(-1, Huffman.decode(hex("ff"), 0, 1, new byte[16]), "8 bits of padding and nothing else");
        assertEquals(-1, Huffman.decode(hex("fe"), 0, 1, new byte[16]), "a symbol cut ('!' is 1111111000)");
        assertEquals(-1, Huffman.decodedLength(hex("1fff"), 0, 2));
    }

    @Test
    void rfcExampleStrings() {
        assertArrayEquals("www.example.com".getBytes(), decode(hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff")));
        assertArrayEquals("no-cache".getBytes(), decode(hex("a8eb 1064 9cbf")));
        assertArrayEquals("custom-key".getBytes(), decode(hex("25a8 49e9 5ba9 7d7f")));
    }

    private static byte[] decode(byte[] enc) {
        byte[] out = new byte[Huffman.maxDecodedLength(enc.length)];
        int n = Huffman.decode(enc, 0, enc.length, out);
        assertEquals(true, n >= 0, "valid Huffman");
        return Arrays.copyOf(out, n);
    }
}
