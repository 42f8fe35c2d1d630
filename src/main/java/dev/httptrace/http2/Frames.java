package dev.httptrace.http2;

/** HTTP/2 frame types, flags and error codes (RFC 9113 sections 6 and 7). */
final class Frames {
    private Frames() {}

    static final int HEADER_LENGTH = 9;
    static final int DEFAULT_MAX_FRAME_SIZE = 16_384;

    static final int DATA = 0x0, HEADERS = 0x1, PRIORITY = 0x2, RST_STREAM = 0x3, SETTINGS = 0x4,
            PUSH_PROMISE = 0x5, PING = 0x6, GOAWAY = 0x7, WINDOW_UPDATE = 0x8, CONTINUATION = 0x9;

    static final int FLAG_END_STREAM = 0x1, FLAG_ACK = 0x1, FLAG_END_HEADERS = 0x4, FLAG_PADDED = 0x8,
            FLAG_PRIORITY = 0x20;

    static final int SETTINGS_HEADER_TABLE_SIZE = 0x1, SETTINGS_MAX_FRAME_SIZE = 0x5;

    /** The client's connection preface, before its first frame. */
    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static final String[] ERRORS = {"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
        "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"};

    /** The RFC's name of an error code, or {@code 0x..} for one it does not define. */
    static String errorName(long code) {
        return code >= 0 && code < ERRORS.length ? ERRORS[(int) code] : "0x" + Long.toHexString(code);
    }

    /** Flags each known frame type may carry; a strict reader rejects others. */
    private static final int[] ALLOWED_FLAGS = {
        FLAG_END_STREAM | FLAG_PADDED, FLAG_END_STREAM | FLAG_END_HEADERS | FLAG_PADDED | FLAG_PRIORITY, 0, 0,
        FLAG_ACK, FLAG_END_HEADERS | FLAG_PADDED, FLAG_ACK, 0, 0, FLAG_END_HEADERS};

    static int length(byte[] b, int o) {
        return (b[o] & 0xFF) << 16 | (b[o + 1] & 0xFF) << 8 | (b[o + 2] & 0xFF);
    }

    static int streamId(byte[] b, int o) {
        return (b[o + 5] & 0x7F) << 24 | (b[o + 6] & 0xFF) << 16 | (b[o + 7] & 0xFF) << 8 | (b[o + 8] & 0xFF);
    }

    /**
     * The 9 bytes at {@code o} are a frame header a peer with default settings could send:
     * a known type, its allowed flags, a length its type allows (at most {@code maxLength}), a
     * stream id where its type needs one (and none where it must not have one), the reserved bit clear.
     */
    static boolean plausibleHeader(byte[] b, int o, int maxLength) {
        int length = length(b, o);
        int type = b[o + 3] & 0xFF;
        int flags = b[o + 4] & 0xFF;
        if (type > CONTINUATION || (flags & ~ALLOWED_FLAGS[type]) != 0 || (b[o + 5] & 0x80) != 0 || length > maxLength) {
            return false;
        }
        boolean onStream = streamId(b, o) != 0;
        return switch (type) {
            case DATA, HEADERS, CONTINUATION -> onStream;
            case PRIORITY -> onStream && length == 5;
            case RST_STREAM -> onStream && length == 4;
            case PUSH_PROMISE -> onStream && length >= 4;
            case SETTINGS -> !onStream && length % 6 == 0 && ((flags & FLAG_ACK) == 0 || length == 0);
            case PING -> !onStream && length == 8;
            case GOAWAY -> !onStream && length >= 8;
            case WINDOW_UPDATE -> length == 4;
            default -> false;
        };
    }
}
