package dev.httptrace.http1;

/**
 * Skips a chunked body (RFC 9112 section 7.1) by counting: chunk-size lines with extensions,
 * chunk data, and the trailer section, without keeping any byte. Chunk data is skipped in
 * bulk; only the framing is read byte by byte.
 */
final class ChunkedBody {
    private static final int SIZE = 0, EXTENSION = 1, SIZE_LF = 2, DATA = 3, DATA_CR = 4, DATA_LF = 5,
            TRAILER = 6, DONE = 7, FAILED = 8;
    /** More significant hex digits than this cannot be a real chunk size (2^60 and beyond). */
    private static final int MAX_SIZE_DIGITS = 15;

    private int state;
    private long size;
    /** Significant hex digits of the chunk size (leading zeros not counted). */
    private int digits;
    private boolean anyDigit;
    /** Some chunk size went beyond {@link #MAX_SIZE_DIGITS} digits and was read modulo 2^64. */
    private boolean wrapped;
    private long remaining;
    private int trailerLineLength;
    private long dataBytes;

    void reset() {
        state = SIZE;
        size = 0;
        digits = 0;
        anyDigit = false;
        wrapped = false;
        remaining = 0;
        trailerLineLength = 0;
        dataBytes = 0;
    }

    boolean done() { return state == DONE; }

    boolean failed() { return state == FAILED; }

    /**
     * A chunk size overflowed 64 bits and was framed as the value a server computing in 64 bits
     * reads ({@code 1} and 16 zeros is the last chunk): a request-smuggling pattern, flagged.
     */
    boolean wrapped() { return wrapped; }

    /** Inside chunk data, with {@link #remainingInChunk()} bytes of it still to come. */
    boolean inData() { return state == DATA; }

    long remainingInChunk() { return remaining; }

    /** Chunk data bytes seen so far: the body size as Content-Length would have said it. */
    long dataBytes() { return dataBytes; }

    /** Counts {@code n <= remainingInChunk()} data bytes missing from the capture as skipped. */
    void skipData(long n) {
        remaining -= n;
        dataBytes += n;
        if (remaining == 0) state = DATA_CR;
    }

    /** Reads from {@code buf[off, off+len)}; returns the bytes consumed (fewer when the body ended or failed). */
    int feed(byte[] buf, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end) {
            switch (state) {
                case DATA -> {
                    int n = (int) Math.min(remaining, end - i);
                    i += n;
                    skipData(n);
                    continue;
                }
                case DONE, FAILED -> {
                    return i - off;
                }
                default -> { }
            }
            int c = buf[i++];
            switch (state) {
                case SIZE -> {
                    int v = hex(c);
                    if (v >= 0) {
                        anyDigit = true;
                        if (size != 0 || v != 0) digits++;
                        size = size * 16 + v; // modulo 2^64 past 16 digits, as a 64-bit server reads it
                    } else if (!anyDigit) {
                        state = FAILED;
                    } else if (c == ';' || c == ' ' || c == '\t') {
                        state = EXTENSION;
                    } else if (c == '\r') {
                        state = SIZE_LF;
                    } else if (c == '\n') {
                        endOfSizeLine();
                    } else {
                        state = FAILED;
                    }
                }
                case EXTENSION -> {
                    if (c == '\n') endOfSizeLine();
                }
                case SIZE_LF -> {
                    if (c == '\n') endOfSizeLine();
                    else state = FAILED;
                }
                case DATA_CR -> {
                    if (c == '\r') state = DATA_LF;
                    else if (c == '\n') nextChunk();
                    else state = FAILED;
                }
                case DATA_LF -> {
                    if (c == '\n') nextChunk();
                    else state = FAILED;
                }
                case TRAILER -> {
                    if (c == '\n') {
                        if (trailerLineLength == 0) state = DONE;
                        trailerLineLength = 0;
                    } else if (c != '\r') {
                        trailerLineLength++;
                    }
                }
                default -> throw new IllegalStateException();
            }
        }
        return i - off;
    }

    private void nextChunk() {
        state = SIZE;
        size = 0;
        digits = 0;
        anyDigit = false;
    }

    private void endOfSizeLine() {
        if (digits > MAX_SIZE_DIGITS) {
            // Beyond 2^60: no real chunk. One that overflowed 64 bits into a small value is framed as
            // that value (what a server reading it in 64 bits does); any other ends the body here.
            if (digits <= 16 || size < 0 || size >= 1L << 60) {
                state = FAILED;
                return;
            }
            wrapped = true;
        }
        if (size == 0) {
            state = TRAILER;
            trailerLineLength = 0;
        } else {
            state = DATA;
            remaining = size;
        }
    }

    private static int hex(int c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
}
