package dev.httptrace.tcp;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Writes down what a stream delivers, as readable events: start(1001), data(GET ), gap(5), end(FIN). */
final class RecordingConsumer implements StreamConsumer {
    final List<String> events = new ArrayList<>();

    @Override
    public void onStart(long seq, boolean midStream, long timestampNanos) {
        events.add((midStream ? "start-mid(" : "start(") + seq + ")");
    }

    @Override
    public void onData(byte[] buf, int off, int len, long seq, long ack, long ts, boolean segmentStart) {
        events.add((segmentStart ? "data(" : "data-cont(") + new String(buf, off, len, StandardCharsets.ISO_8859_1) + ")");
    }

    @Override
    public void onGap(long bytes, boolean lost, long timestampNanos) {
        events.add("gap(" + bytes + ")");
    }

    @Override
    public void onEnd(EndReason reason, long timestampNanos) {
        events.add("end(" + reason + ")");
    }

    /** The bytes delivered, with each gap shown as #n#. */
    String text() {
        StringBuilder sb = new StringBuilder();
        for (String e : events) {
            if (e.startsWith("data(")) sb.append(e, 5, e.length() - 1);
            else if (e.startsWith("data-cont(")) sb.append(e, 10, e.length() - 1);
            else if (e.startsWith("gap(")) sb.append('#').append(e, 4, e.length() - 1).append('#');
        }
        return sb.toString();
    }
}
