package dev.httptrace.hpack;

/** RFC 7541 Appendix A: the 61 entries of the static table, as shared constants. */
final class StaticTable {
    static final int LENGTH = 61;

    /** Index 1..61; slot 0 unused. */
    static final String[] NAMES = new String[LENGTH + 1];
    static final String[] VALUES = new String[LENGTH + 1];
    /** The fully indexed field for each entry, handed out as is (no allocation per reference). */
    static final HeaderField[] FIELDS = new HeaderField[LENGTH + 1];

    private StaticTable() {
    }

    static {
        String[] table = {
                ":authority", "",
                ":method", "GET",
                ":method", "POST",
                ":path", "/",
                ":path", "/index.html",
                ":scheme", "http",
                ":scheme", "https",
                ":status", "200",
                ":status", "204",
                ":status", "206",
                ":status", "304",
                ":status", "400",
                ":status", "404",
                ":status", "500",
                "accept-charset", "",
                "accept-encoding", "gzip, deflate",
                "accept-language", "",
                "accept-ranges", "",
                "accept", "",
                "access-control-allow-origin", "",
                "age", "",
                "allow", "",
                "authorization", "",
                "cache-control", "",
                "content-disposition", "",
                "content-encoding", "",
                "content-language", "",
                "content-length", "",
                "content-location", "",
                "content-range", "",
                "content-type", "",
                "cookie", "",
                "date", "",
                "etag", "",
                "expect", "",
                "expires", "",
                "from", "",
                "host", "",
                "if-match", "",
                "if-modified-since", "",
                "if-none-match", "",
                "if-range", "",
                "if-unmodified-since", "",
                "last-modified", "",
                "link", "",
                "location", "",
                "max-forwards", "",
                "proxy-authenticate", "",
                "proxy-authorization", "",
                "range", "",
                "referer", "",
                "refresh", "",
                "retry-after", "",
                "server", "",
                "set-cookie", "",
                "strict-transport-security", "",
                "transfer-encoding", "",
                "user-agent", "",
                "vary", "",
                "via", "",
                "www-authenticate", "",
        };
        if (table.length != 2 * LENGTH) throw new AssertionError("static table has " + table.length / 2 + " entries");
        for (int i = 1; i <= LENGTH; i++) {
            // One String object per distinct name, so equal names are the same reference.
            String name = table[2 * i - 2];
            for (int j = 1; j < i; j++) {
                if (NAMES[j].equals(name)) {
                    name = NAMES[j];
                    break;
                }
            }
            NAMES[i] = name;
            VALUES[i] = table[2 * i - 1];
            FIELDS[i] = new HeaderField(NAMES[i], VALUES[i], false, 0);
        }
    }
}
