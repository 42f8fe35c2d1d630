package dev.httptrace.http1;

/**
 * Checks, one byte at a time, whether bytes begin a request line
 * ({@code METHOD SP target SP HTTP/1.x}) or a status line ({@code HTTP/1.x SP ddd [SP reason]}).
 *
 * <p>It answers as early as possible, so that a stream that is not HTTP (TLS, binary) is
 * rejected at its first bytes, and it keeps no bytes: the caller buffers the line.
 */
final class StartLineScanner {
    static final int MORE = 0;
    static final int REQUEST = 1;
    static final int RESPONSE = 2;
    static final int INVALID = -1;

    /** Longest method accepted: longer tokens are not HTTP methods in practice (and keep garbage short). */
    static final int MAX_METHOD = 32;

    private static final byte[] HTTP1 = {'H', 'T', 'T', 'P', '/', '1', '.'};
    private static final boolean[] TCHAR = new boolean[256];

    static {
        for (int c = '0'; c <= '9'; c++) TCHAR[c] = true;
        for (int c = 'A'; c <= 'Z'; c++) TCHAR[c] = true;
        for (int c = 'a'; c <= 'z'; c++) TCHAR[c] = true;
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) TCHAR[c] = true;
    }

    static boolean isTchar(byte b) {
        return TCHAR[b & 0xFF];
    }

    // Request line states.
    private static final int R_METHOD = 0, R_TARGET = 1, R_VERSION = 2, R_MINOR = 3, R_EOL = 4, R_LF = 5, R_DEAD = 6;
    // Status line states.
    private static final int S_VERSION = 0, S_MINOR = 1, S_SP = 2, S_CODE = 3, S_AFTER_CODE = 4,
            S_REASON = 5, S_LF = 6, S_DEAD = 7;

    private int request;
    private int response;
    private int count;
    private int respCount;

    /** Starts a new line; a kind not allowed is treated as already rejected. */
    void reset(boolean allowRequest, boolean allowResponse) {
        request = allowRequest ? R_METHOD : R_DEAD;
        response = allowResponse ? S_VERSION : S_DEAD;
        count = 0;
        respCount = 0;
    }

    /** Feeds the next byte: MORE, INVALID, or the kind of line that this byte (its LF) completed. */
    int feed(byte b) {
        if (request != R_DEAD && stepRequest(b)) return REQUEST;
        if (response != S_DEAD && stepResponse(b)) return RESPONSE;
        return request == R_DEAD && response == S_DEAD ? INVALID : MORE;
    }

    /** Returns true when {@code b} completes a valid request line. */
    private boolean stepRequest(byte b) {
        int c = b & 0xFF;
        switch (request) {
            case R_METHOD -> {
                if (c == ' ' && count > 0) { request = R_TARGET; count = 0; }
                else if (TCHAR[c] && ++count <= MAX_METHOD) { /* stay */ }
                else request = R_DEAD;
            }
            case R_TARGET -> {
                if (c == ' ' && count > 0) { request = R_VERSION; count = 0; }
                else if (c > ' ' && c != 0x7F) count = 1;
                else request = R_DEAD;
            }
            case R_VERSION -> {
                if (c == HTTP1[count]) { if (++count == HTTP1.length) request = R_MINOR; }
                else request = R_DEAD;
            }
            case R_MINOR -> request = c >= '0' && c <= '9' ? R_EOL : R_DEAD;
            case R_EOL -> {
                if (c == '\n') return true;
                request = c == '\r' ? R_LF : R_DEAD;
            }
            case R_LF -> {
                if (c == '\n') return true;
                request = R_DEAD;
            }
            default -> { }
        }
        return false;
    }

    /** Returns true when {@code b} completes a valid status line. */
    private boolean stepResponse(byte b) {
        int c = b & 0xFF;
        switch (response) {
            case S_VERSION -> {
                if (c == HTTP1[respCount]) { if (++respCount == HTTP1.length) response = S_MINOR; }
                else response = S_DEAD;
            }
            case S_MINOR -> response = c >= '0' && c <= '9' ? S_SP : S_DEAD;
            case S_SP -> {
                if (c == ' ') { response = S_CODE; respCount = 0; }
                else response = S_DEAD;
            }
            case S_CODE -> {
                if (c >= '0' && c <= '9') { if (++respCount == 3) response = S_AFTER_CODE; }
                else response = S_DEAD;
            }
            case S_AFTER_CODE -> {
                if (c == '\n') return true;
                response = c == ' ' ? S_REASON : c == '\r' ? S_LF : S_DEAD;
            }
            case S_REASON -> {
                if (c == '\n') return true;
                if (c == '\r') response = S_LF;
                else if (c < ' ' && c != '\t' || c == 0x7F) response = S_DEAD;
            }
            case S_LF -> {
                if (c == '\n') return true;
                response = S_DEAD;
            }
            default -> { }
        }
        return false;
    }
}
