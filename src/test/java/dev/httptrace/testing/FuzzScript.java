package dev.httptrace.testing;

import dev.httptrace.capture.Segment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Arbitrary bytes as a scripted TCP conversation, for fuzz tests: the fuzzer chooses payloads and damage. */
public final class FuzzScript {
    private FuzzScript() {}

    /**
     * Decodes a script. Byte 0: bit 0 = start with a handshake. Then records
     * {@code [control][length][payload]}; control bits: 0 = from the server, 1 = FIN after,
     * 2 = RST instead, 3 = only half the payload captured, 4 = lost, 5 = seen twice, 6 = overtaken
     * by the next segment, 7 = 250 ms pass (such segments have ifindex 2: expire runs after them).
     * {@code clientPrefix}, when not empty, is the client's first segment.
     */
    public static List<Segment> segments(byte[] in, byte[] clientPrefix) {
        byte[] client = {10, 0, 0, 1};
        byte[] server = {10, 0, 0, 2};
        long[] seq = {1001, 9001};
        long clock = 1_000_000_000_000L;
        List<Segment> out = new ArrayList<>();
        if (in.length > 0 && (in[0] & 1) != 0) {
            out.add(new Segment(clock++, 1, client, server, 40000, 80, 1000, 0, Segment.SYN, 0, new byte[0]));
            out.add(new Segment(clock++, 1, server, client, 80, 40000, 9000, 1001, Segment.SYN | Segment.ACK, 0, new byte[0]));
        }
        if (clientPrefix.length > 0) {
            out.add(new Segment(clock++, 1, client, server, 40000, 80, seq[0], seq[1], Segment.ACK, clientPrefix.length,
                    clientPrefix));
            seq[0] += clientPrefix.length;
        }
        int i = 1;
        boolean holdNext = false;
        while (i + 1 < in.length) {
            int control = in[i] & 0xFF;
            int length = Math.min(in[i + 1] & 0xFF, in.length - i - 2);
            byte[] payload = Arrays.copyOfRange(in, i + 2, i + 2 + length);
            i += 2 + length;
            int from = control & 1;
            int flags = Segment.ACK | ((control & 2) != 0 ? Segment.FIN : 0) | ((control & 4) != 0 ? Segment.RST : 0);
            if ((control & 0x80) != 0) clock += 250_000_000L;
            byte[] captured = (control & 8) != 0 ? Arrays.copyOf(payload, length / 2) : payload;
            Segment s = new Segment(clock++, (control & 0x80) != 0 ? 2 : 1,
                    from == 0 ? client : server, from == 0 ? server : client, from == 0 ? 40000 : 80, from == 0 ? 80 : 40000,
                    seq[from], seq[1 - from], flags, length, captured);
            seq[from] = (seq[from] + length + ((flags & Segment.FIN) != 0 ? 1 : 0)) & 0xFFFF_FFFFL;
            if ((control & 0x10) != 0) continue; // lost
            out.add(s);
            if ((control & 0x20) != 0) out.add(s);
            if (holdNext && out.size() >= 2) {
                Segment last = out.removeLast();
                out.add(out.size() - 1, last);
            }
            holdNext = (control & 0x40) != 0;
        }
        return out;
    }
}
