package dev.httptrace.output;

/**
 * Allocation-free formatting of addresses and timestamps into caller-owned char buffers.
 * Shared by the writers; package-private.
 */
final class Formats {

    private Formats() {}

    /** Longest text {@link #address} can produce ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" is 45). */
    static final int MAX_ADDRESS_CHARS = 45;

    /** Length of {@link #rfc3339Micros}' output: "2026-11-23T16:40:01.123456Z". */
    static final int RFC3339_MICROS_CHARS = 27;

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /**
     * Writes an IPv4 address in dotted-quad form, or an IPv6 address in the RFC 5952
     * canonical form (lower-case hex, no leading zeros, the longest run of two or more zero
     * groups — the first one on a tie — compressed to "::", IPv4-mapped addresses as
     * {@code ::ffff:192.0.2.1}). No lookups, no allocation.
     *
     * @return the number of chars written
     * @throws IllegalArgumentException when the address is neither 4 nor 16 bytes
     */
    static int address(byte[] a, char[] buf, int off) {
        if (a.length == 4) {
            return ipv4(a, 0, buf, off);
        }
        if (a.length != 16) {
            throw new IllegalArgumentException("IP address of " + a.length + " bytes");
        }
        int p = off;
        if (isV4Mapped(a)) {
            "::ffff:".getChars(0, 7, buf, p);
            p += 7;
            return p - off + ipv4(a, 12, buf, p);
        }
        // Longest run of zero groups (length >= 2), first on a tie.
        int bestStart = -1, bestLen = 0;
        for (int g = 0; g < 8; ) {
            if (group(a, g) != 0) {
                g++;
                continue;
            }
            int s = g;
            while (g < 8 && group(a, g) == 0) {
                g++;
            }
            if (g - s > bestLen) {
                bestStart = s;
                bestLen = g - s;
            }
        }
        if (bestLen < 2) {
            bestStart = -1;
            bestLen = 0;
        }
        for (int g = 0; g < 8; g++) {
            if (g == bestStart) {
                buf[p++] = ':';
                buf[p++] = ':';
                g += bestLen - 1;
                continue;
            }
            if (g > 0 && g != bestStart + bestLen) {
                buf[p++] = ':';
            }
            p = hexGroup(group(a, g), buf, p);
        }
        return p - off;
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    private static int group(byte[] a, int g) {
        return ((a[2 * g] & 0xff) << 8) | (a[2 * g + 1] & 0xff);
    }

    private static int hexGroup(int v, char[] buf, int p) {
        boolean started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            int d = (v >>> shift) & 0xf;
            if (d != 0 || started || shift == 0) {
                buf[p++] = HEX[d];
                started = true;
            }
        }
        return p;
    }

    private static int ipv4(byte[] a, int from, char[] buf, int off) {
        int p = off;
        for (int i = 0; i < 4; i++) {
            if (i > 0) {
                buf[p++] = '.';
            }
            p = decimal(a[from + i] & 0xff, buf, p);
        }
        return p - off;
    }

    /** Writes a non-negative int in decimal; returns the new position. */
    static int decimal(int v, char[] buf, int p) {
        int digits = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : Integer.toString(v).length();
        for (int i = p + digits - 1; i >= p; i--) {
            buf[i] = (char) ('0' + v % 10);
            v /= 10;
        }
        return p + digits;
    }

    /**
     * Writes epoch nanoseconds as RFC 3339 UTC with exactly six fractional digits,
     * e.g. {@code 2026-11-23T16:40:01.123456Z} (always {@link #RFC3339_MICROS_CHARS} chars:
     * a long of nanoseconds spans the years 1677 to 2262). Sub-microsecond digits are
     * truncated, not rounded, so the text never names a later instant than the packet's.
     */
    static int rfc3339Micros(long epochNanos, char[] buf, int off) {
        long secs = Math.floorDiv(epochNanos, 1_000_000_000L);
        int micros = (int) (Math.floorMod(epochNanos, 1_000_000_000L) / 1000);
        long days = Math.floorDiv(secs, 86_400L);
        int secOfDay = (int) Math.floorMod(secs, 86_400L);
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long doe = z - era * 146_097;
        long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        int day = (int) (doy - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        int year = (int) (yoe + era * 400 + (month <= 2 ? 1 : 0));
        int p = off;
        p = fixed(year, 4, buf, p);
        buf[p++] = '-';
        p = fixed(month, 2, buf, p);
        buf[p++] = '-';
        p = fixed(day, 2, buf, p);
        buf[p++] = 'T';
        p = timeOfDayMicros(secOfDay, micros, buf, p);
        buf[p++] = 'Z';
        return p - off;
    }

    /** Writes {@code HH:MM:SS.ffffff}; returns the new position. */
    static int timeOfDayMicros(int secOfDay, int micros, char[] buf, int p) {
        p = fixed(secOfDay / 3600, 2, buf, p);
        buf[p++] = ':';
        p = fixed(secOfDay / 60 % 60, 2, buf, p);
        buf[p++] = ':';
        p = fixed(secOfDay % 60, 2, buf, p);
        buf[p++] = '.';
        return fixed(micros, 6, buf, p);
    }

    /** Writes v zero-padded to exactly {@code width} digits (v must fit). */
    static int fixed(int v, int width, char[] buf, int p) {
        for (int i = width - 1; i >= 0; i--) {
            buf[p + i] = (char) ('0' + v % 10);
            v /= 10;
        }
        return p + width;
    }

    /**
     * Returns s with every unpaired UTF-16 surrogate replaced by U+FFFD, or s itself (no
     * allocation) when it has none. Strings decoded from bytes never hold one, but an
     * unpaired surrogate cannot be encoded as UTF-8, so the writers never pass one on.
     */
    static String wellFormed(String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return replaceUnpaired(s);
            }
        }
        return s;
    }

    private static String replaceUnpaired(String s) {
        StringBuilder b = new StringBuilder(s.length());
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                b.append('\uFFFD');
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
