package dev.httptrace.output;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FormatsTest {

    private static final DateTimeFormatter MICROS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(java.time.ZoneOffset.UTC);

    @Test
    void timestampsMatchJavaTimeAcrossTheWholeRange() {
        SplittableRandom r = new SplittableRandom(42);
        char[] buf = new char[32];
        long[] fixed = {0, -1, 1, Long.MIN_VALUE, Long.MAX_VALUE, 951_782_400_000_000_000L /* 2000-02-29 */,
                4_107_542_399_999_999_999L /* 2100-02-28T23:59:59.999999999 */};
        for (long n : fixed) {
            check(n, buf);
        }
        for (int i = 0; i < 200_000; i++) {
            check(r.nextLong(), buf);
        }
    }

    private static void check(long nanos, char[] buf) {
        Instant i = Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L))
                .truncatedTo(ChronoUnit.MICROS);
        int n = Formats.rfc3339Micros(nanos, buf, 0);
        assertEquals(Formats.RFC3339_MICROS_CHARS, n);
        assertEquals(MICROS.format(i), new String(buf, 0, n), "nanos " + nanos);
    }

    @Test
    void ipv6MatchesRfc5952ForRandomAddresses() throws Exception {
        // Reference: InetAddress prints full groups without compression; compress by hand.
        SplittableRandom r = new SplittableRandom(7);
        char[] buf = new char[Formats.MAX_ADDRESS_CHARS];
        for (int i = 0; i < 100_000; i++) {
            byte[] a = new byte[16];
            for (int g = 0; g < 8; g++) {
                int v = switch (r.nextInt(4)) {
                    case 0, 1 -> 0;
                    case 2 -> r.nextInt(16);
                    default -> r.nextInt(65536);
                };
                a[2 * g] = (byte) (v >> 8);
                a[2 * g + 1] = (byte) v;
            }
            if (a[10] == (byte) 0xff && a[11] == (byte) 0xff) {
                continue;
            }
            String got = new String(buf, 0, Formats.address(a, buf, 0));
            assertEquals(reference(a), got);
            // And it parses back to the same bytes.
            byte[] back = InetAddress.ofLiteral(got).getAddress();
            if (back.length == 16) {
                assertEquals(java.util.HexFormat.of().formatHex(a), java.util.HexFormat.of().formatHex(back));
            }
        }
    }

    /** Straightforward RFC 5952 section 4 implementation, used as the oracle. */
    private static String reference(byte[] a) {
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = ((a[2 * i] & 0xff) << 8) | (a[2 * i + 1] & 0xff);
        }
        int best = -1, bestLen = 1;
        for (int i = 0; i < 8; i++) {
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                best = i;
                bestLen = j - i;
            }
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == best) {
                b.append("::");
                i += bestLen - 1;
                continue;
            }
            if (b.length() > 0 && b.charAt(b.length() - 1) != ':') {
                b.append(':');
            }
            b.append(Integer.toHexString(g[i]));
        }
        return b.toString();
    }

    @Test
    void ipv4AndBadLengths() {
        char[] buf = new char[Formats.MAX_ADDRESS_CHARS];
        assertEquals("10.0.255.1", new String(buf, 0, Formats.address(new byte[]{10, 0, (byte) 255, 1}, buf, 0)));
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 255, (byte) 255, (byte) 255, (byte) 255};
        int n = Formats.address(mapped, buf, 0);
        assertEquals("::ffff:255.255.255.255", new String(buf, 0, n));
        assertThrows(IllegalArgumentException.class, () -> Formats.address(new byte[6], buf, 0));
    }

    @Test
    void wellFormedDoesNotCopyCleanStrings() {
        String s = "plain \uD83D\uDE00 text";
        assertSame(s, Formats.wellFormed(s));
        assertEquals("\uFFFD", Formats.wellFormed("\uDC00"));
        assertEquals("a\uFFFD", Formats.wellFormed("a\uD800"));
        assertEquals("\uFFFD\uD83D\uDE00", Formats.wellFormed("\uDE00\uD83D\uDE00"));
    }
}
