package dev.httptrace.http2;

import dev.httptrace.protocol.ProtocolSniffer;

/**
 * Tells HTTP/2 from a stream's first bytes (the client preface, or the SETTINGS frame a server
 * opens with), or, joined mid-way, from a segment that begins with a chain of plausible frame
 * headers that ends exactly where the segment does (or runs past it after two whole frames):
 * body bytes of another protocol are very unlikely to line up that way.
 */
final class Http2Sniffer implements ProtocolSniffer {

    @Override
    public Guess sniff(byte[] buf, int off, int len, boolean atStart) {
        return atStart ? sniffStart(buf, off, len) : chain(buf, off, len) ? Guess.YES : Guess.NO;
    }

    private static Guess sniffStart(byte[] b, int off, int len) {
        byte[] p = Frames.PREFACE;
        int n = Math.min(len, p.length);
        if (java.util.Arrays.equals(b, off, off + n, p, 0, n)) return n == p.length ? Guess.YES : Guess.MORE;
        // A server's preface: SETTINGS on stream 0, not an ACK.
        if (b[off] != 0) return Guess.NO;
        if (len < Frames.HEADER_LENGTH) return Guess.MORE;
        return b[off + 3] == Frames.SETTINGS && b[off + 4] == 0
                && Frames.plausibleHeader(b, off, Frames.DEFAULT_MAX_FRAME_SIZE) ? Guess.YES : Guess.NO;
    }

    static boolean chain(byte[] b, int off, int len) {
        int at = off;
        int end = off + len;
        int whole = 0;
        while (end - at >= Frames.HEADER_LENGTH) {
            if (!Frames.plausibleHeader(b, at, Frames.DEFAULT_MAX_FRAME_SIZE)) return false;
            long next = (long) at + Frames.HEADER_LENGTH + Frames.length(b, at);
            if (next > end) return whole >= 2;
            whole++;
            at = (int) next;
        }
        return at == end ? whole >= 1 : whole >= 2;
    }
}
