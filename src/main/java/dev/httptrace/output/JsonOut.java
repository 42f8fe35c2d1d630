package dev.httptrace.output;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The JSON text of one record, appended to a reusable byte array.
 *
 * <p>Hand-written on purpose: this is the hot path of the tracer (one record per exchange,
 * 100k+ a second), and Jackson's generator, for all its care, spent about 40% of the
 * pipeline's CPU here (its write-context checks per value and its char-by-char string
 * encoding; profiled under load). This writer knows the shape of what it writes: field
 * names come pre-encoded, numbers are digits written straight into the array, and strings
 * take a one-pass path that copies plain ASCII byte for byte. What it writes is standard
 * JSON: the tests parse it with Jackson and validate it against the JSON Schema.
 *
 * <p>Strings are written as UTF-8; {@code "} and {@code \} and control characters are
 * escaped (as Jackson does: {@code \n \r \t \b \f}, else <code>&#92;u00XX</code>), and an unpaired
 * surrogate, which has no UTF-8 form, becomes U+FFFD.
 */
final class JsonOut {

    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FALSE = "false".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_DEPTH = 16;
    private static final int SHRINK_ABOVE = 1 << 20;

    private byte[] buf = new byte[4096];
    private int len;
    /** Per nesting level: a member or element was written, so the next one needs a comma. */
    private final boolean[] started = new boolean[MAX_DEPTH];
    /** Per nesting level: it is an array (its values are separated), not an object (its members are). */
    private final boolean[] array = new boolean[MAX_DEPTH];
    private int depth;

    /** A field name as written: {@code "name":}, encoded once. */
    static byte[] name(String name) {
        JsonOut o = new JsonOut();
        o.string(name);
        o.put((byte) ':');
        return o.toBytes();
    }

    /** A constant string value as written, quoted and encoded once. */
    static byte[] value(String value) {
        JsonOut o = new JsonOut();
        o.string(value);
        return o.toBytes();
    }

    /** Starts a new record. */
    void reset() {
        if (buf.length > SHRINK_ABOVE) {
            buf = new byte[4096]; // one huge record must not keep its memory
        }
        len = 0;
        depth = 0;
        started[0] = false;
    }

    byte[] array() { return buf; }

    int length() { return len; }

    byte[] toBytes() { return Arrays.copyOf(buf, len); }

    void startObject() {
        open((byte) '{');
    }

    void endObject() {
        close((byte) '}');
    }

    void startArray() {
        open((byte) '[');
    }

    void endArray() {
        close((byte) ']');
    }

    /** A member's name, from {@link #name}: a value must follow. */
    void field(byte[] encodedName) {
        separate();
        put(encodedName);
    }

    /** A constant value from {@link #value}, or a pre-encoded string. */
    void raw(byte[] encoded) {
        element();
        put(encoded);
    }

    void nullValue() {
        raw(NULL);
    }

    void bool(boolean v) {
        raw(v ? TRUE : FALSE);
    }

    void number(long v) {
        element();
        ensure(20);
        if (v < 0) {
            if (v == Long.MIN_VALUE) {
                put(Long.toString(v).getBytes(StandardCharsets.US_ASCII));
                return;
            }
            buf[len++] = '-';
            v = -v;
        }
        int digits = 1;
        for (long t = v; t >= 10; t /= 10) {
            digits++;
        }
        int at = len + digits;
        len = at;
        do {
            buf[--at] = (byte) ('0' + (int) (v % 10));
            v /= 10;
        } while (v != 0);
    }

    void string(String s) {
        string(s, 0, s.length());
    }

    /** The chars [from, to) of s as a string value. */
    void string(String s, int from, int to) {
        element();
        int n = to;
        ensure(n - from + 2);
        buf[len++] = '"';
        int i = from;
        // Plain ASCII, the usual case, one byte per char with nothing to decide.
        for (; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
                break;
            }
            buf[len++] = (byte) c;
        }
        if (i < n) {
            encodeRest(s, i, n);
        }
        put((byte) '"');
    }

    /** A string value made only of printable ASCII that needs no escape (timestamps, addresses). */
    void ascii(char[] chars, int off, int n) {
        element();
        ensure(n + 2);
        buf[len++] = '"';
        for (int i = off; i < off + n; i++) {
            buf[len++] = (byte) chars[i];
        }
        buf[len++] = '"';
    }

    /** A newline after the record. */
    void newline() {
        put((byte) '\n');
    }

    private void encodeRest(String s, int i, int n) {
        for (; i < n; i++) {
            char c = s.charAt(i);
            ensure(12);
            if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                buf[len++] = (byte) c;
            } else if (c < 0x80) {
                escape(c);
            } else if (c < 0x800) {
                buf[len++] = (byte) (0xC0 | (c >> 6));
                buf[len++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                buf[len++] = (byte) (0xF0 | (cp >> 18));
                buf[len++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                buf[len++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                buf[len++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                int cp = Character.isSurrogate(c) ? 0xFFFD : c; // unpaired: no UTF-8 form
                buf[len++] = (byte) (0xE0 | (cp >> 12));
                buf[len++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                buf[len++] = (byte) (0x80 | (cp & 0x3F));
            }
        }
    }

    private void escape(char c) {
        buf[len++] = '\\';
        switch (c) {
            case '"' -> buf[len++] = '"';
            case '\\' -> buf[len++] = '\\';
            case '\n' -> buf[len++] = 'n';
            case '\r' -> buf[len++] = 'r';
            case '\t' -> buf[len++] = 't';
            case '\b' -> buf[len++] = 'b';
            case '\f' -> buf[len++] = 'f';
            default -> {
                buf[len++] = 'u';
                buf[len++] = '0';
                buf[len++] = '0';
                buf[len++] = HEX[c >> 4];
                buf[len++] = HEX[c & 0xF];
            }
        }
    }

    private void open(byte bracket) {
        element();
        if (depth + 1 >= MAX_DEPTH) {
            throw new IllegalStateException("JSON nested deeper than " + (MAX_DEPTH - 1));
        }
        put(bracket);
        depth++;
        started[depth] = false;
        array[depth] = bracket == '[';
    }

    private void close(byte bracket) {
        if (depth == 0) {
            throw new IllegalStateException("no JSON object or array to close");
        }
        depth--;
        put(bracket);
    }

    /** Before a member: the comma after the previous one. */
    private void separate() {
        if (started[depth]) {
            put((byte) ',');
        }
        started[depth] = true;
    }

    /** Before a value: in an array, the comma after the previous element; after a field name, nothing. */
    private void element() {
        if (array[depth]) {
            separate();
        }
    }

    private void put(byte b) {
        ensure(1);
        buf[len++] = b;
    }

    private void put(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buf, len, bytes.length);
        len += bytes.length;
    }

    private void ensure(int more) {
        if (len + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
        }
    }
}
