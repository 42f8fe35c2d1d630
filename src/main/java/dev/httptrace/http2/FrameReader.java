package dev.httptrace.http2;

import dev.httptrace.tcp.EndReason;
import dev.httptrace.tcp.StreamConsumer;

import java.util.Arrays;

/**
 * One direction of an HTTP/2 connection read frame by frame, from bytes that arrive in pieces
 * of any size; each frame reaches the {@link FrameHandler} as it completes (DATA payloads as
 * they come, without being copied).
 *
 * <p>A header block is gathered across HEADERS/PUSH_PROMISE and CONTINUATION frames up to
 * {@link #MAX_HEADER_BLOCK} bytes; past that it is handed over incomplete. A gap inside a DATA
 * payload only costs that body's exactness; a gap anywhere else, or bytes that are no frame,
 * lose the framing: the handler is told, and the reader waits for a segment that begins a
 * plausible chain of frames ({@link Http2Sniffer#chain}).
 */
final class FrameReader implements StreamConsumer {

    /** Largest header block kept (HEADERS plus CONTINUATIONs); beyond, the block is incomplete. */
    static final int MAX_HEADER_BLOCK = 256 * 1024;
    /** Largest payload of a control frame kept (GOAWAY debug data beyond is skipped). */
    private static final int MAX_CONTROL_PAYLOAD = 16 * 1024;

    private enum State { PREFACE, HEADER, PAYLOAD, HUNT, ENDED }

    private final int side;
    private final FrameHandler handler;
    private final Http2Counters counters;
    private State state = State.HUNT;
    private final byte[] header = new byte[Frames.HEADER_LENGTH];
    private int headerFill;
    private int prefaceFill;
    private long headerTimestamp;

    // The frame being read.
    private int type;
    private int flags;
    private int streamId;
    private int length;
    private int read;
    private int padLength = -1;
    /** Payload bytes before the fragment (pad length, priority, promised id) still to be read. */
    private int prefix;
    /** Control frame payload, or the fixed prefix of HEADERS/PUSH_PROMISE. */
    private byte[] control = new byte[64];
    private int controlFill;

    // The header block being gathered.
    private byte[] block = new byte[4096];
    private int blockFill;
    private boolean blockComplete = true;
    private int blockStream;
    private int blockPromised;
    private boolean blockPush;
    private boolean blockEndStream;
    private long blockTimestamp;
    private boolean inBlock;

    /**
     * Longest frame the receiver allows (its SETTINGS_MAX_FRAME_SIZE, 16384 until it says); a
     * longer one is a protocol error a real receiver would end the connection for. Joined mid-way
     * the setting is unknown, so any length goes for the frame types defined.
     */
    private int maxFrameSize = Frames.DEFAULT_MAX_FRAME_SIZE;
    private boolean maxFrameSizeKnown = true;

    private int[] settingIds = new int[8];
    private long[] settingValues = new long[8];

    FrameReader(int side, FrameHandler handler, Http2Counters counters) {
        this.side = side;
        this.handler = handler;
        this.counters = counters;
    }

    @Override
    public void onStart(long seq, boolean midStream, long timestampNanos) {
        state = midStream ? State.HUNT : State.PREFACE;
        maxFrameSizeKnown = !midStream;
    }

    /** The receiver of this direction announced SETTINGS_MAX_FRAME_SIZE. */
    void maxFrameSize(long bytes) {
        if (bytes >= Frames.DEFAULT_MAX_FRAME_SIZE && bytes <= 0xFF_FFFF) {
            maxFrameSize = (int) bytes;
            maxFrameSizeKnown = true;
        }
    }

    @Override
    public void onData(byte[] buf, int off, int len, long seq, long ack, long ts, boolean segmentStart) {
        int i = off;
        int end = off + len;
        while (i < end) {
            switch (state) {
                case PREFACE -> {
                    byte[] p = Frames.PREFACE;
                    if (prefaceFill == 0 && buf[i] != p[0]) {
                        state = State.HEADER; // a server's stream: frames from the first byte
                        continue;
                    }
                    int n = Math.min(end - i, p.length - prefaceFill);
                    if (!Arrays.equals(buf, i, i + n, p, prefaceFill, prefaceFill + n)) {
                        lose(ts);
                        return;
                    }
                    prefaceFill += n;
                    i += n;
                    if (prefaceFill == p.length) {
                        handler.preface(side);
                        state = State.HEADER;
                    }
                }
                case HUNT -> {
                    if (!segmentStart || i != off || !Http2Sniffer.chain(buf, i, end - i)) return;
                    state = State.HEADER;
                    headerFill = 0;
                }
                case HEADER -> {
                    if (headerFill == 0) headerTimestamp = ts;
                    int n = Math.min(end - i, Frames.HEADER_LENGTH - headerFill);
                    System.arraycopy(buf, i, header, headerFill, n);
                    headerFill += n;
                    i += n;
                    if (headerFill == Frames.HEADER_LENGTH && !beginFrame(ts)) return;
                }
                case PAYLOAD -> i += payload(buf, i, end - i, ts);
                case ENDED -> {
                    return;
                }
            }
        }
    }

    @Override
    public void onGap(long bytes, boolean lost, long timestampNanos) {
        if (state == State.PAYLOAD && type == Frames.DATA && prefix == 0 && bytes <= length - read) {
            long inData = Math.min(bytes, Math.max(0, dataEnd() - read));
            if (inData > 0) handler.dataGap(side, streamId, inData, lost, timestampNanos);
            read += (int) bytes;
            if (read == length) endFrame(timestampNanos);
            return;
        }
        if (state == State.HUNT || state == State.ENDED) return;
        lose(timestampNanos);
    }

    @Override
    public void onEnd(EndReason reason, long timestampNanos) {
        state = State.ENDED;
    }

    /** Framing lost: tell the handler, drop what was gathered, hunt. */
    private void lose(long ts) {
        counters.framingLost++;
        state = State.HUNT;
        headerFill = 0;
        inBlock = false;
        blockFill = 0;
        handler.framingLost(side, ts);
    }

    /** The 9-byte header is in: checks it and starts the payload; false when framing is lost. */
    private boolean beginFrame(long ts) {
        headerFill = 0;
        length = Frames.length(header, 0);
        type = header[3] & 0xFF;
        flags = header[4] & 0xFF;
        streamId = Frames.streamId(header, 0);
        read = 0;
        padLength = -1;
        controlFill = 0;
        counters.frames++;
        if (inBlock && type != Frames.CONTINUATION) { // a header block must continue without interruption
            counters.protocolErrors++;
            lose(ts);
            return false;
        }
        if (type <= Frames.CONTINUATION && !Frames.plausibleHeader(header, 0, 0xFF_FFFF)) {
            counters.protocolErrors++;
            lose(ts);
            return false;
        }
        int limit = maxFrameSizeKnown ? maxFrameSize : type <= Frames.CONTINUATION ? 0xFF_FFFF : Frames.DEFAULT_MAX_FRAME_SIZE;
        if (length > limit) { // FRAME_SIZE_ERROR, or bytes that are no frame: the framing is not to be trusted
            counters.oversizedFrames++;
            lose(ts);
            return false;
        }
        prefix = switch (type) {
            case Frames.HEADERS -> ((flags & Frames.FLAG_PADDED) != 0 ? 1 : 0) + ((flags & Frames.FLAG_PRIORITY) != 0 ? 5 : 0);
            case Frames.PUSH_PROMISE -> ((flags & Frames.FLAG_PADDED) != 0 ? 1 : 0) + 4;
            case Frames.DATA -> (flags & Frames.FLAG_PADDED) != 0 ? 1 : 0;
            default -> 0;
        };
        if (prefix > length) {
            counters.protocolErrors++;
            lose(ts);
            return false;
        }
        if (type == Frames.HEADERS || type == Frames.PUSH_PROMISE) {
            inBlock = true;
            blockFill = 0;
            blockComplete = true;
            blockStream = streamId;
            blockPush = type == Frames.PUSH_PROMISE;
            blockEndStream = (flags & Frames.FLAG_END_STREAM) != 0;
            blockTimestamp = headerTimestamp;
        } else if (type == Frames.CONTINUATION && (!inBlock || streamId != blockStream)) {
            counters.protocolErrors++;
            lose(ts);
            return false;
        }
        state = State.PAYLOAD;
        if (length == 0) endFrame(ts);
        return true;
    }

    /** Where the data (or fragment) ends within the payload: before the padding. */
    private int dataEnd() {
        return padLength < 0 ? length : length - padLength;
    }

    /** Reads payload bytes of the current frame; returns how many it took. */
    private int payload(byte[] buf, int off, int len, long ts) {
        int n = Math.min(len, length - read);
        int i = off;
        int stop = off + n;
        // The fixed part before a fragment or data: the pad length first, then priority / promised id.
        while (prefix > 0 && i < stop) {
            if (padLength < 0 && (flags & Frames.FLAG_PADDED) != 0 && type != Frames.CONTINUATION) {
                padLength = buf[i] & 0xFF;
                if (padLength > length - prefixTotal()) {
                    counters.protocolErrors++;
                    lose(ts);
                    return len;
                }
            } else if (controlFill < control.length) {
                control[controlFill++] = buf[i];
            }
            i++;
            read++;
            prefix--;
        }
        int data = Math.max(0, Math.min(stop - i, dataEnd() - read)); // the rest is padding
        switch (type) {
            case Frames.DATA -> {
                if (data > 0) handler.data(side, streamId, buf, i, data, ts);
            }
            case Frames.HEADERS, Frames.PUSH_PROMISE, Frames.CONTINUATION -> fragment(buf, i, data);
            default -> keep(buf, i, stop - i);
        }
        read += stop - i;
        if (read == length) endFrame(ts);
        return n;
    }

    private int prefixTotal() {
        return switch (type) {
            case Frames.HEADERS -> 1 + ((flags & Frames.FLAG_PRIORITY) != 0 ? 5 : 0);
            case Frames.PUSH_PROMISE -> 1 + 4;
            default -> 1;
        };
    }

    private void fragment(byte[] buf, int off, int len) {
        if (len <= 0) return;
        if (blockFill + len > MAX_HEADER_BLOCK) {
            blockComplete = false;
            return;
        }
        if (blockFill + len > block.length) block = Arrays.copyOf(block, Math.min(MAX_HEADER_BLOCK, Math.max(block.length * 2, blockFill + len)));
        System.arraycopy(buf, off, block, blockFill, len);
        blockFill += len;
    }

    private void keep(byte[] buf, int off, int len) {
        int n = Math.min(len, MAX_CONTROL_PAYLOAD - controlFill);
        if (n <= 0) return;
        if (controlFill + n > control.length) control = Arrays.copyOf(control, Math.max(control.length * 2, controlFill + n));
        System.arraycopy(buf, off, control, controlFill, n);
        controlFill += n;
    }

    private void endFrame(long ts) {
        state = State.HEADER;
        switch (type) {
            case Frames.DATA -> handler.dataEnd(side, streamId, (flags & Frames.FLAG_END_STREAM) != 0, ts);
            case Frames.HEADERS, Frames.PUSH_PROMISE, Frames.CONTINUATION -> {
                if (type == Frames.PUSH_PROMISE) blockPromised = controlFill >= 4 ? (int) (u32(control, 0) & 0x7FFF_FFFF) : 0;
                if ((flags & Frames.FLAG_END_HEADERS) != 0) endBlock();
            }
            case Frames.RST_STREAM -> handler.rstStream(side, streamId, u32(control, 0), ts);
            case Frames.SETTINGS -> {
                if ((flags & Frames.FLAG_ACK) == 0) settings();
            }
            case Frames.GOAWAY -> handler.goAway(side, (int) (u32(control, 0) & 0x7FFF_FFFF), u32(control, 4), ts);
            default -> { } // PRIORITY, PING, WINDOW_UPDATE, extensions: nothing a record needs
        }
    }

    private void endBlock() {
        inBlock = false;
        if (!blockComplete) counters.oversizedBlocks++;
        if (blockPush) {
            handler.pushPromise(side, blockStream, blockPromised, block, blockFill, blockComplete, blockTimestamp);
        } else {
            handler.headers(side, blockStream, blockEndStream, block, blockFill, blockComplete, blockTimestamp);
        }
        blockFill = 0;
        if (block.length > 64 * 1024) block = new byte[4096]; // a huge block once does not stay
    }

    private void settings() {
        int n = controlFill / 6;
        if (settingIds.length < n) {
            settingIds = new int[n];
            settingValues = new long[n];
        }
        for (int k = 0; k < n; k++) {
            settingIds[k] = (control[k * 6] & 0xFF) << 8 | (control[k * 6 + 1] & 0xFF);
            settingValues[k] = u32(control, k * 6 + 2);
        }
        handler.settings(side, settingIds, settingValues, n);
    }

    private static long u32(byte[] b, int o) {
        return (long) (b[o] & 0xFF) << 24 | (b[o + 1] & 0xFF) << 16 | (b[o + 2] & 0xFF) << 8 | (b[o + 3] & 0xFF);
    }
}
