package dev.httptrace.http1;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.pipeline.Tracer;

import dev.httptrace.capture.Segment;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs segments through an {@link Tracer} the way the CLI does, and keeps what comes out. */
final class Trace {
    final List<Exchange> exchanges = new ArrayList<>();
    final Tracer tracer;

    Trace(Tracer.Settings settings) {
        tracer = new Tracer(exchanges::add, settings);
    }

    Trace() {
        this(Tracer.Settings.defaults());
    }

    /** Feeds the segments (with the periodic expire at each one's time), then ends the capture. */
    static Trace of(List<Segment> segments) {
        return new Trace().feed(segments).finish();
    }

    Trace feed(List<Segment> segments) {
        for (Segment s : segments) {
            tracer.expire(s.timestampNanos());
            tracer.accept(s);
        }
        return this;
    }

    Trace finish() {
        tracer.finish();
        return this;
    }

    Tracer.Stats stats() {
        return tracer.stats();
    }

    Exchange only() {
        assertEquals(1, exchanges.size(), () -> "exchanges: " + describe(exchanges));
        return exchanges.getFirst();
    }

    /** One line per exchange with everything the output would show, for comparing runs. */
    static String describe(List<Exchange> exchanges) {
        return exchanges.stream().map(Trace::describe).collect(Collectors.joining("\n"));
    }

    static String describe(Exchange e) {
        Exchange.Request q = e.request();
        Exchange.Response r = e.response();
        return q.timestampNanos() + " " + q.method() + " " + q.target() + " HTTP/" + q.version() + " " + q.headers()
                + (q.headTruncated() ? " truncated" : "") + " body=" + q.bodySize()
                + " -> " + (r == null ? "none"
                : r.timestampNanos() + " " + r.statusCode() + " '" + r.reason() + "' HTTP/" + r.version() + " "
                + r.headers() + (r.headTruncated() ? " truncated" : "") + " body=" + r.bodySize())
                + " " + e.trace();
    }
}
