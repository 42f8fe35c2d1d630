package dev.httptrace.http1;

import dev.httptrace.exchange.Exchange;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses one message head (start line and header lines) from bytes that may arrive in
 * pieces of any size.
 *
 * <p>Complete lines are parsed in place in the caller's buffer; only a line cut by the end of
 * a segment is copied, into a line buffer that never grows beyond the head limit. Past the
 * limit the head is marked truncated: later header lines are not kept, but are still read for
 * the headers that frame the body, and the parser still finds the end of the head. Bytes are
 * decoded as UTF-8 with replacement, so no input can make it throw.
 */
final class HeadParser {
    static final int MORE = 0;
    static final int DONE = 1;
    static final int INVALID = -1;

    private static final byte[] CONTENT_LENGTH = "content-length".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TRANSFER_ENCODING = "transfer-encoding".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CHUNKED = "chunked".getBytes(StandardCharsets.US_ASCII);
    /** Transfer codings registered for HTTP/1.1 (RFC 9110 section 18.6, RFC 9112 section 7). */
    private static final java.util.Set<String> KNOWN_CODINGS =
            java.util.Set.of("chunked", "compress", "deflate", "gzip", "x-compress", "x-gzip", "identity");
    private static final byte[] NO_BYTES = {};
    /** A line buffer grown larger than this is dropped after the head, so idle streams stay small. */
    private static final int KEEP_LINE_BUFFER = 1024;

    private final int maxHeadBytes;
    private final StartLineScanner scanner = new StartLineScanner();
    /** Request lines that fail the strict scanner are read to their end and parsed leniently. */
    private boolean lenient;
    private boolean lenientLine;
    private byte[] line = NO_BYTES;
    private int lineLength;
    private boolean lineOverflow;

    private int state;
    private boolean inStartLine;
    private boolean startLineBegun;
    private long headBytes;
    private boolean lastHeaderKept;
    /** The last header line was Transfer-Encoding (an obs-fold continues its codings). */
    private boolean lastHeaderTransferEncoding;
    /** chunked codings listed so far. */
    private int chunkedCodings;

    // What the head said; valid once the start line (kind != MORE) or the head (DONE) is complete.
    int kind;
    String method;
    String target;
    String version;
    int status;
    String reason;
    List<Exchange.Header> headers;
    boolean truncated;
    int malformedLines;
    /** -1 when absent. */
    long contentLength;
    boolean contentLengthInvalid;
    boolean transferEncoding;
    /** The final transfer coding is chunked. */
    boolean chunked;
    /** Some Content-Length header was present (valid or not). */
    boolean contentLengthSeen;
    /** {@link Anomaly} bits of what was wrong in the head. */
    int anomalies;
    /**
     * The request line as sent (cut at {@link Exchange.TraceInfo#MAX_MALFORMED_LINE}) when a lenient
     * parse could not make a request of it; method, target and version are then null.
     */
    String malformedLine;

    HeadParser(int maxHeadBytes) {
        this.maxHeadBytes = maxHeadBytes;
    }

    /** Begins a new head, accepting a request line, a status line, or either. */
    void start(boolean allowRequest, boolean allowResponse) {
        start(allowRequest, allowResponse, false);
    }

    /**
     * Begins a new head. {@code lenient} (at a known message boundary of a known client) also
     * accepts the request lines real servers accept: a target with spaces or none, an HTTP/0.9
     * simple request ({@code GET /path}), any method token; and a line none of those fit ends the
     * head at once as a malformed request ({@link #malformedLine}).
     */
    void start(boolean allowRequest, boolean allowResponse, boolean lenient) {
        this.lenient = lenient && allowRequest && !allowResponse;
        lenientLine = false;
        scanner.reset(allowRequest, allowResponse);
        state = MORE;
        inStartLine = true;
        startLineBegun = false;
        headBytes = 0;
        lineLength = 0;
        lineOverflow = false;
        lastHeaderKept = false;
        lastHeaderTransferEncoding = false;
        chunkedCodings = 0;
        kind = StartLineScanner.MORE;
        method = target = version = reason = null;
        status = 0;
        headers = null;
        truncated = false;
        malformedLines = 0;
        contentLength = -1;
        contentLengthInvalid = false;
        transferEncoding = false;
        chunked = false;
        contentLengthSeen = false;
        anomalies = 0;
        malformedLine = null;
    }

    int state() { return state; }

    /** A request only believed once answered: a malformed line, or a simple request not GET. */
    boolean unproven() {
        return malformedLine != null || "0.9".equals(version) && !"GET".equals(method);
    }

    /** Bytes of the head kept as strings, at most about the head limit: what holding it costs. */
    long keptBytes() { return Math.min(headBytes, maxHeadBytes); }

    /** The start line is parsed (the head may still be incomplete). */
    boolean hasStartLine() { return kind != StartLineScanner.MORE && !inStartLine; }

    /** The start line failed the strict rules and is being read to its end to be parsed leniently. */
    boolean readingLeniently() { return lenientLine; }

    /** Some byte of the head (besides empty lines before it) has been read. */
    boolean begun() { return startLineBegun; }

    /** Frees a large line buffer; called when the head is done with. */
    void release() {
        if (line.length > KEEP_LINE_BUFFER) line = NO_BYTES;
        lineLength = 0;
    }

    /**
     * Reads from {@code buf[off, off+len)} until the head ends or turns out invalid.
     *
     * @return the number of bytes consumed; fewer than {@code len} only when {@link #state()}
     *         is no longer MORE (the rest belongs to the body or is not HTTP)
     */
    int feed(byte[] buf, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end && state == MORE) {
            int lineStart = i;
            int lf = -1;
            if (inStartLine) {
                for (; i < end; i++) {
                    byte b = buf[i];
                    if (!startLineBegun) {
                        if (b == '\r' || b == '\n') { // empty lines before a message are tolerated
                            lineStart = i + 1;
                            if (++headBytes > maxHeadBytes) return fail(i + 1 - off);
                            continue;
                        }
                        startLineBegun = true;
                    }
                    int r = lenientLine ? StartLineScanner.INVALID : scanner.feed(b);
                    if (r == StartLineScanner.INVALID) {
                        if (!lenient) return fail(i - off);
                        lenientLine = true; // read to the end of the line, then parse it leniently
                        if (b != '\n') continue;
                        r = StartLineScanner.REQUEST;
                    }
                    if (r != StartLineScanner.MORE) {
                        kind = r;
                        lf = i;
                        break;
                    }
                }
                if (lf < 0) {
                    headBytes += end - lineStart;
                    append(buf, lineStart, end - lineStart);
                    return lineOverflow ? fail(len) : len;
                }
            } else {
                for (; i < end; i++) {
                    if (buf[i] == '\n') { lf = i; break; }
                }
                if (lf < 0) {
                    headBytes += end - lineStart;
                    append(buf, lineStart, end - lineStart);
                    return len;
                }
            }
            headBytes += lf + 1 - lineStart;
            byte[] b;
            int lo;
            int n;
            boolean overflow = lineOverflow;
            if (lineLength == 0 && !overflow) {
                b = buf;
                lo = lineStart;
                n = lf - lineStart;
            } else {
                append(buf, lineStart, lf - lineStart);
                overflow = lineOverflow;
                b = line;
                lo = 0;
                n = lineLength;
            }
            lineLength = 0;
            lineOverflow = false;
            // A line longer than the head limit is skipped whether or not a segment boundary cut it.
            overflow |= n > maxHeadBytes;
            if (n > 0 && b[lo + n - 1] == '\r') n--;
            i = lf + 1;
            if (inStartLine) {
                if (overflow || headBytes > maxHeadBytes) return fail(i - off);
                startLine(b, lo, n);
            } else {
                headerLine(b, lo, n, overflow);
            }
        }
        return i - off;
    }

    private int fail(int consumed) {
        state = INVALID;
        return consumed;
    }

    private void append(byte[] buf, int off, int n) {
        if (lineOverflow || n == 0) return;
        int room = maxHeadBytes - lineLength;
        if (n > room) {
            lineOverflow = true;
            n = Math.max(room, 0);
        }
        if (lineLength + n > line.length) {
            int capacity = Math.max(256, Math.max(line.length * 2, lineLength + n));
            line = java.util.Arrays.copyOf(line, Math.min(capacity, maxHeadBytes));
        }
        System.arraycopy(buf, off, line, lineLength, n);
        lineLength += n;
    }

    /** The scanner has validated the line (unless read leniently), so the positions below exist. */
    private void startLine(byte[] b, int lo, int n) {
        inStartLine = false;
        headers = new ArrayList<>();
        if (lenientLine) {
            lenientRequestLine(b, lo, n);
        } else if (kind == StartLineScanner.REQUEST) {
            int sp1 = indexOf(b, lo, lo + n, (byte) ' ');
            int sp2 = lo + n - 9; // " HTTP/1.x"
            method = new String(b, lo, sp1 - lo, StandardCharsets.US_ASCII);
            target = new String(b, sp1 + 1, sp2 - sp1 - 1, StandardCharsets.UTF_8);
            version = version(b[lo + n - 1]);
        } else {
            version = version(b[lo + 7]);
            status = (b[lo + 9] - '0') * 100 + (b[lo + 10] - '0') * 10 + (b[lo + 11] - '0');
            reason = n > 13 ? new String(b, lo + 13, n - 13, StandardCharsets.UTF_8) : "";
        }
    }

    /**
     * A request line the strict scanner refused: {@code method SP target SP HTTP/1.x} with a target
     * that is empty or contains spaces; {@code method SP target SP version} whose version token is
     * broken ({@code HTTP/1.}, {@code http/1.1}: {@link Anomaly#VERSION_INVALID}, version as sent);
     * {@code method SP target} (HTTP/0.9, any method); or else malformed. The last two end the head
     * here: a simple request has no headers, and after a malformed line nothing of the head can be
     * trusted.
     */
    private void lenientRequestLine(byte[] b, int lo, int n) {
        int end = lo + n;
        int sp = lo;
        while (sp < end && StartLineScanner.isTchar(b[sp])) sp++;
        if (sp > lo && sp < end && b[sp] == ' ' && !hasControl(b, sp + 1, end)) {
            int rest = sp + 1;
            int v = end - 8; // "HTTP/1.x"
            if (v >= rest && isHttp1(b, v) && (v == rest || b[v - 1] == ' ')) {
                int targetEnd = v == rest ? rest : v - 1;
                method = new String(b, lo, sp - lo, StandardCharsets.US_ASCII);
                target = new String(b, rest, targetEnd - rest, StandardCharsets.UTF_8);
                version = version(b[end - 1]);
                if (target.isEmpty()) anomalies |= Anomaly.TARGET_EMPTY.bit;
                else if (target.indexOf(' ') >= 0) anomalies |= Anomaly.TARGET_WITH_SPACE.bit;
                return;
            }
            int last = lastIndexOf(b, rest, end, (byte) ' ');
            if (last > rest && looksLikeVersion(b, last + 1, end)) { // a broken version; method and target fine
                method = new String(b, lo, sp - lo, StandardCharsets.US_ASCII);
                target = new String(b, rest, last - rest, StandardCharsets.UTF_8);
                version = new String(b, last + 1, end - last - 1, StandardCharsets.US_ASCII);
                anomalies |= Anomaly.VERSION_INVALID.bit;
                if (target.indexOf(' ') >= 0) anomalies |= Anomaly.TARGET_WITH_SPACE.bit;
                return;
            }
            if (rest < end && last < 0) { // a simple request: HTTP/0.9, any method
                method = new String(b, lo, sp - lo, StandardCharsets.US_ASCII);
                target = new String(b, rest, end - rest, StandardCharsets.UTF_8);
                version = "0.9";
                state = DONE;
                return;
            }
        }
        malformedLine = new String(b, lo, Math.min(n, Exchange.TraceInfo.MAX_MALFORMED_LINE), StandardCharsets.UTF_8);
        state = DONE;
    }

    /** {@code HTTP/} in any case, then at least one byte and no space: a version token, however broken. */
    private static boolean looksLikeVersion(byte[] b, int from, int to) {
        if (to - from < 6) return false;
        return (b[from] | 0x20) == 'h' && (b[from + 1] | 0x20) == 't' && (b[from + 2] | 0x20) == 't'
                && (b[from + 3] | 0x20) == 'p' && b[from + 4] == '/';
    }

    private static int lastIndexOf(byte[] b, int from, int to, byte value) {
        for (int k = to - 1; k >= from; k--) {
            if (b[k] == value) return k;
        }
        return -1;
    }

    private static boolean isHttp1(byte[] b, int at) {
        return b[at] == 'H' && b[at + 1] == 'T' && b[at + 2] == 'T' && b[at + 3] == 'P' && b[at + 4] == '/'
                && b[at + 5] == '1' && b[at + 6] == '.' && b[at + 7] >= '0' && b[at + 7] <= '9';
    }

    private static boolean hasControl(byte[] b, int from, int to) {
        for (int k = from; k < to; k++) {
            if ((b[k] >= 0 && b[k] < ' ') || b[k] == 0x7F) return true;
        }
        return false;
    }

    private static String version(byte minor) {
        return switch (minor) {
            case '1' -> "1.1";
            case '0' -> "1.0";
            default -> "1." + (char) minor;
        };
    }

    private void headerLine(byte[] b, int lo, int n, boolean overflow) {
        if (overflow) { // longer than the whole head limit: skipped
            truncated = true;
            lastHeaderKept = false;
            return;
        }
        if (n == 0) {
            state = DONE;
            return;
        }
        if (headBytes > maxHeadBytes) truncated = true; // this line and the rest are not kept
        int end = lo + n;
        if (b[lo] == ' ' || b[lo] == '\t') {
            fold(b, lo, end);
            return;
        }
        lastHeaderTransferEncoding = false;
        int colon = lo;
        while (colon < end && StartLineScanner.isTchar(b[colon])) colon++;
        if (colon == lo || colon == end || b[colon] != ':') {
            malformedLines++;
            lastHeaderKept = false;
            return;
        }
        int vs = colon + 1;
        int ve = end;
        while (vs < ve && isOws(b[vs])) vs++;
        while (ve > vs && isOws(b[ve - 1])) ve--;
        int nameLength = colon - lo;
        if (equalsIgnoreCase(b, lo, nameLength, CONTENT_LENGTH)) {
            contentLengthSeen = true;
            contentLength(b, vs, ve);
        } else if (equalsIgnoreCase(b, lo, nameLength, TRANSFER_ENCODING)) {
            if (transferEncoding) anomalies |= Anomaly.TRANSFER_ENCODING_REPEATED.bit;
            transferEncoding = true;
            lastHeaderTransferEncoding = true;
            codings(b, vs, ve);
        }
        if (truncated) {
            lastHeaderKept = false;
            return;
        }
        headers.add(new Exchange.Header(new String(b, lo, nameLength, StandardCharsets.UTF_8),
                new String(b, vs, ve - vs, StandardCharsets.UTF_8)));
        lastHeaderKept = true;
    }

    /** obs-fold: a line starting with whitespace continues the previous header's value. */
    private void fold(byte[] b, int lo, int end) {
        if (headers.isEmpty() && !truncated) {
            malformedLines++;
            return;
        }
        anomalies |= Anomaly.OBS_FOLD.bit;
        while (lo < end && isOws(b[lo])) lo++;
        while (end > lo && isOws(b[end - 1])) end--;
        if (lo == end) return;
        // Servers that accept obs-fold unfold it first: a folded Transfer-Encoding frames the body with its
        // continuation (a smuggling pattern against those that do not).
        if (lastHeaderTransferEncoding) codings(b, lo, end);
        if (!lastHeaderKept || truncated) return;
        Exchange.Header last = headers.removeLast();
        headers.add(new Exchange.Header(last.name(),
                last.value() + " " + new String(b, lo, end - lo, StandardCharsets.UTF_8)));
    }

    /**
     * Content-Length: digits, or a list of identical values ("5, 5"). Anything else makes it
     * unusable ({@link #contentLengthInvalid}): not a number (negative, other characters, beyond
     * 2^63) is {@link Anomaly#CONTENT_LENGTH_INVALID}; different values (in a list or in two
     * headers) are {@link Anomaly#CONTENT_LENGTH_CONFLICT}, and {@link #contentLength} keeps the first.
     */
    private void contentLength(byte[] b, int from, int to) {
        long value = -1;
        int k = from;
        while (true) {
            while (k < to && isOws(b[k])) k++;
            long v = 0;
            int digits = 0;
            while (k < to && b[k] >= '0' && b[k] <= '9') {
                if (v > (Long.MAX_VALUE - 9) / 10) {
                    invalidContentLength(Anomaly.CONTENT_LENGTH_INVALID);
                    return;
                }
                v = v * 10 + (b[k++] - '0');
                digits++;
            }
            if (digits == 0) {
                invalidContentLength(Anomaly.CONTENT_LENGTH_INVALID);
                return;
            }
            if (value >= 0 && v != value) {
                invalidContentLength(Anomaly.CONTENT_LENGTH_CONFLICT);
                break;
            }
            value = v;
            while (k < to && isOws(b[k])) k++;
            if (k == to) break;
            if (b[k++] != ',') {
                invalidContentLength(Anomaly.CONTENT_LENGTH_INVALID);
                return;
            }
        }
        if (contentLength >= 0) {
            if (contentLength != value) invalidContentLength(Anomaly.CONTENT_LENGTH_CONFLICT);
            return;
        }
        contentLength = value;
    }

    private void invalidContentLength(Anomaly why) {
        contentLengthInvalid = true;
        anomalies |= why.bit;
    }

    /** Transfer codings listed in {@code b[from, to)}, after those of earlier lines: the last one decides. */
    private void codings(byte[] b, int from, int to) {
        int k = from;
        while (k < to && (isOws(b[k]) || b[k] == ',')) k++;
        if (k == to) return; // nothing listed: the codings so far stand
        chunked = lastCodingIsChunked(b, from, to);
        if (hasUnknownCoding(b, from, to)) anomalies |= Anomaly.TRANSFER_ENCODING_UNKNOWN.bit;
        chunkedCodings += countChunked(b, from, to);
        if (chunkedCodings > 1) anomalies |= Anomaly.TRANSFER_ENCODING_REPEATED.bit;
    }

    /** How many listed codings are chunked. */
    private static int countChunked(byte[] b, int from, int to) {
        int count = 0;
        int start = from;
        for (int k = from; k <= to; k++) {
            if (k == to || b[k] == ',') {
                int s = start;
                int e = k;
                while (s < e && isOws(b[s])) s++;
                while (e > s && isOws(b[e - 1])) e--;
                int semicolon = indexOf(b, s, e, (byte) ';');
                if (semicolon >= 0) e = semicolon;
                while (e > s && isOws(b[e - 1])) e--;
                if (equalsIgnoreCase(b, s, e - s, CHUNKED)) count++;
                start = k + 1;
            }
        }
        return count;
    }

    /** A listed transfer coding (parameters aside) is not one registered for HTTP/1.1. */
    private static boolean hasUnknownCoding(byte[] b, int from, int to) {
        for (String coding : new String(b, from, to - from, StandardCharsets.ISO_8859_1).split(",")) {
            int semicolon = coding.indexOf(';');
            String name = (semicolon < 0 ? coding : coding.substring(0, semicolon)).strip();
            if (!name.isEmpty() && !KNOWN_CODINGS.contains(name.toLowerCase(java.util.Locale.ROOT))) return true;
        }
        return false;
    }

    private static boolean lastCodingIsChunked(byte[] b, int from, int to) {
        int start = from;
        for (int k = to - 1; k >= from; k--) {
            if (b[k] == ',') {
                start = k + 1;
                break;
            }
        }
        while (start < to && isOws(b[start])) start++;
        return equalsIgnoreCase(b, start, to - start, CHUNKED);
    }

    private static boolean isOws(byte c) {
        return c == ' ' || c == '\t';
    }

    /** {@code b[off, off+len)} equals the lower-case ASCII {@code lower}, ignoring ASCII case. */
    private static boolean equalsIgnoreCase(byte[] b, int off, int len, byte[] lower) {
        if (len != lower.length) return false;
        for (int k = 0; k < len; k++) {
            int c = b[off + k];
            if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
            if (c != lower[k]) return false;
        }
        return true;
    }

    private static int indexOf(byte[] b, int from, int to, byte value) {
        for (int k = from; k < to; k++) {
            if (b[k] == value) return k;
        }
        return -1;
    }
}
