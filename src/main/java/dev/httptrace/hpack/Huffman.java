package dev.httptrace.hpack;

/**
 * The HPACK Huffman code (RFC 7541 Appendix B) and a table-driven decoder.
 *
 * <p>The code is canonical: codes of one length are consecutive, in symbol order, so the code
 * lengths alone define it. At class initialisation the code tree (256 inner nodes) is turned
 * into a state table: for each inner node and each 4-bit nibble, the node reached, the symbol
 * completed on the way (at most one: the shortest code has 5 bits), whether EOS was reached
 * and whether stopping there is a valid end (the bits since the last symbol are all ones and
 * at most 7 of them, RFC 7541 5.2). Decoding is then two table lookups per input byte.
 */
final class Huffman {
    static final int EOS = 256;

    /** Code length in bits of symbols 0..255 and EOS (RFC 7541 Appendix B, column "len"). */
    static final byte[] LENGTHS = {
            13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28,
            28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8,
            11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12,
            10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
            8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
            6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22,
            22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23,
            21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24,
            21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22,
            23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21,
            26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22,
            21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27,
            27, 28, 27, 27, 27, 27, 27, 26,
            30, // EOS
    };

    /** Codes (right-aligned), derived from {@link #LENGTHS} by the canonical construction. */
    static final int[] CODES = new int[257];

    /** Transition flags; bits 0..7 are the next state, bits 8..15 the symbol emitted. */
    static final int EMIT = 1 << 16, ACCEPT = 1 << 17, FAIL = 1 << 18;
    /** [state * 16 + nibble]; state = inner node, 0 = root. */
    private static final int[] TABLE = new int[256 * 16];

    private Huffman() {
    }

    static {
        if (LENGTHS.length != 257) throw new AssertionError("Huffman table has " + LENGTHS.length + " lengths");
        // Canonical codes: by length, then by symbol.
        int code = 0;
        for (int len = 1; len <= 30; len++) {
            for (int sym = 0; sym <= EOS; sym++) {
                if (LENGTHS[sym] == len) CODES[sym] = code++;
            }
            code <<= 1;
        }
        // The tree: inner nodes 0..255 (children[node*2+bit] >= 0: inner node; < 0: ~symbol).
        int[] children = new int[256 * 2];
        java.util.Arrays.fill(children, Integer.MIN_VALUE);
        int nodes = 1;
        for (int sym = 0; sym <= EOS; sym++) {
            int node = 0;
            for (int b = LENGTHS[sym] - 1; b >= 0; b--) {
                int bit = (CODES[sym] >>> b) & 1;
                int slot = node * 2 + bit;
                if (b == 0) {
                    if (children[slot] != Integer.MIN_VALUE) throw new AssertionError("Huffman code is not prefix-free");
                    children[slot] = ~sym;
                } else {
                    if (children[slot] == Integer.MIN_VALUE) children[slot] = nodes++;
                    if (children[slot] < 0) throw new AssertionError("Huffman code is not prefix-free");
                    node = children[slot];
                }
            }
        }
        if (nodes != 256) throw new AssertionError("Huffman tree has " + nodes + " inner nodes");
        // Nodes along the all-ones path at depth 0..7 are where a string may end (padding).
        boolean[] accepting = new boolean[256];
        int node = 0;
        for (int depth = 0; depth <= 7; depth++) {
            accepting[node] = true;
            node = children[node * 2 + 1];
        }
        for (int state = 0; state < 256; state++) {
            for (int nibble = 0; nibble < 16; nibble++) {
                int at = state;
                int entry = 0;
                for (int b = 3; b >= 0; b--) {
                    int next = children[at * 2 + ((nibble >>> b) & 1)];
                    if (next >= 0) {
                        at = next;
                    } else if (~next == EOS) {
                        entry |= FAIL;
                        at = 0;
                        break;
                    } else {
                        if ((entry & EMIT) != 0) throw new AssertionError("two symbols in a nibble");
                        entry |= EMIT | (~next << 8);
                        at = 0;
                    }
                }
                if ((entry & FAIL) == 0 && accepting[at]) entry |= ACCEPT;
                TABLE[state * 16 + nibble] = entry | at;
            }
        }
    }

    /** The most octets {@code len} Huffman-coded octets can decode to (the shortest code has 5 bits). */
    static int maxDecodedLength(int len) {
        return (int) (len * 8L / 5);
    }

    /**
     * Decodes {@code src[off, off+len)} into {@code dst} (at least {@link #maxDecodedLength}
     * long). Returns the number of octets written, or -1 when the input is not a valid
     * Huffman string: it contains EOS, or ends in padding that is longer than 7 bits, not all
     * ones, or cuts a symbol.
     */
    static int decode(byte[] src, int off, int len, byte[] dst) {
        int[] t = TABLE;
        int state = 0;
        int n = 0;
        int e = ACCEPT; // the empty string is valid
        for (int i = off, end = off + len; i < end; i++) {
            int b = src[i];
            e = t[(state << 4) | ((b >>> 4) & 0xF)];
            if ((e & (EMIT | FAIL)) != 0) {
                if ((e & FAIL) != 0) return -1;
                dst[n++] = (byte) (e >>> 8);
            }
            e = t[((e & 0xFF) << 4) | (b & 0xF)];
            if ((e & (EMIT | FAIL)) != 0) {
                if ((e & FAIL) != 0) return -1;
                dst[n++] = (byte) (e >>> 8);
            }
            state = e & 0xFF;
        }
        return (e & ACCEPT) != 0 ? n : -1;
    }

    /** Like {@link #decode} but only counts: the decoded length, or -1 when invalid. */
    static int decodedLength(byte[] src, int off, int len) {
        int[] t = TABLE;
        int state = 0;
        int n = 0;
        int e = ACCEPT;
        for (int i = off, end = off + len; i < end; i++) {
            int b = src[i];
            e = t[(state << 4) | ((b >>> 4) & 0xF)];
            if ((e & FAIL) != 0) return -1;
            if ((e & EMIT) != 0) n++;
            e = t[((e & 0xFF) << 4) | (b & 0xF)];
            if ((e & FAIL) != 0) return -1;
            if ((e & EMIT) != 0) n++;
            state = e & 0xFF;
        }
        return (e & ACCEPT) != 0 ? n : -1;
    }
}
