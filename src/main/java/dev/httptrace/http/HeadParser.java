package dev.httptrace.http;

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
    private static final byte[] NO_BYTES = {};
    /** A line buffer grown larger than this is dropped after the head, so idle streams stay small. */
    private static final int KEEP_LINE_BUFFER = 1024;

    private final int maxHeadBytes;
    private final StartLineScanner scanner = new StartLineScanner();
    private byte[] line = NO_BYTES;
    private int lineLength;
    private boolean lineOverflow;

    private int state;
    private boolean inStartLine;
    private boolean startLineBegun;
    private long headBytes;
    private boolean lastHeaderKept;

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

    HeadParser(int maxHeadBytes) {
        this.maxHeadBytes = maxHeadBytes;
    }

    /** Begins a new head, accepting a request line, a status line, or either. */
    void start(boolean allowRequest, boolean allowResponse) {
        scanner.reset(allowRequest, allowResponse);
        state = MORE;
        inStartLine = true;
        startLineBegun = false;
        headBytes = 0;
        lineLength = 0;
        lineOverflow = false;
        lastHeaderKept = false;
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
    }

    int state() { return state; }

    /** Bytes of the head kept as strings, at most about the head limit: what holding it costs. */
    long keptBytes() { return Math.min(headBytes, maxHeadBytes); }

    /** The start line is parsed (the head may still be incomplete). */
    boolean hasStartLine() { return kind != StartLineScanner.MORE && !inStartLine; }

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
                    int r = scanner.feed(b);
                    if (r == StartLineScanner.INVALID) return fail(i - off);
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

    /** The scanner has validated the line, so the positions below exist. */
    private void startLine(byte[] b, int lo, int n) {
        inStartLine = false;
        headers = new ArrayList<>();
        if (kind == StartLineScanner.REQUEST) {
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
            contentLength(b, vs, ve);
        } else if (equalsIgnoreCase(b, lo, nameLength, TRANSFER_ENCODING)) {
            transferEncoding = true;
            chunked = lastCodingIsChunked(b, vs, ve);
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
        if (!lastHeaderKept || truncated) return;
        while (lo < end && isOws(b[lo])) lo++;
        while (end > lo && isOws(b[end - 1])) end--;
        if (lo == end) return;
        Exchange.Header last = headers.removeLast();
        headers.add(new Exchange.Header(last.name(),
                last.value() + " " + new String(b, lo, end - lo, StandardCharsets.UTF_8)));
    }

    /** Content-Length: digits, or a list of identical values ("5, 5"); anything else is invalid. */
    private void contentLength(byte[] b, int from, int to) {
        long value = -1;
        int k = from;
        while (true) {
            while (k < to && isOws(b[k])) k++;
            long v = 0;
            int digits = 0;
            while (k < to && b[k] >= '0' && b[k] <= '9') {
                if (v > (Long.MAX_VALUE - 9) / 10) {
                    contentLengthInvalid = true;
                    return;
                }
                v = v * 10 + (b[k++] - '0');
                digits++;
            }
            if (digits == 0 || (value >= 0 && v != value)) {
                contentLengthInvalid = true;
                return;
            }
            value = v;
            while (k < to && isOws(b[k])) k++;
            if (k == to) break;
            if (b[k++] != ',') {
                contentLengthInvalid = true;
                return;
            }
        }
        if (contentLength >= 0 && contentLength != value) contentLengthInvalid = true;
        contentLength = value;
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
