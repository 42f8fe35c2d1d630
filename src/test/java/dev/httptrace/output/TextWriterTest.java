package dev.httptrace.output;

import dev.httptrace.exchange.Exchange;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import static dev.httptrace.output.Fixtures.x;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TextWriterTest {

    private static final OutputOptions LO = new OutputOptions(i -> i == 1 ? "lo" : null, false, Set.of());

    static String text(OutputOptions o, ZoneId zone, Exchange... xs) {
        return text(o, zone, false, xs);
    }

    static String text(OutputOptions o, ZoneId zone, boolean colour, Exchange... xs) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TextWriter w = new TextWriter(out, o, zone, colour);
        for (Exchange x : xs) {
            w.exchange(x);
        }
        try {
            w.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    static String text(Consumer<Fixtures.X> change) {
        Fixtures.X f = x();
        change.accept(f);
        return text(LO, ZoneOffset.UTC, f.build());
    }

    @Test
    void answeredInAlignedColumnsWithTheTargetLast() {
        assertEquals("16:40:01.123456 lo    127.0.0.1:54321       -> 127.0.0.1:8080        200 GET       1.234 ms     0 B     5 B /hello?x=1\n",
                text(f -> {}));
    }

    @Test
    void anHttp2StreamIsMarkedWithItsStreamIdAndWhatItsRecordLacks() {
        String line = text(f -> {
            f.h2(7, new Exchange.Grpc("s", "m", 14, null, 1, 1), List.of());
            f.http2 = new Exchange.Http2(7, "complete", null, null, "http", List.of(), 3, true, false, 0, 0,
                    f.http2.grpc());
        });
        assertTrue(line.endsWith(" /hello?x=1 [h2 #7] [request not seen] [unknown fields: 3] [grpc-status 14]\n"), line);
    }

    @Test
    void columnsLineUpWhateverTheValues() {
        Fixtures.X other = x();
        other.client = "10.1.2.3";
        other.clientPort = 1;
        other.method = "DELETE";
        other.status = 404;
        other.responseDelay = 250_000_000L;
        other.requestBody = 3 * 1024 * 1024 + 200_000;
        other.responseBody = 1500;
        String[] lines = text(LO, ZoneOffset.UTC, x().build(), other.build()).split("\n");
        assertEquals("16:40:01.123456 lo    10.1.2.3:1            -> 127.0.0.1:8080        404 DELETE  250.000 ms 3.2 MiB 1.5 KiB /hello?x=1",
                lines[1]);
        assertEquals(lines[0].indexOf("/hello"), lines[1].indexOf("/hello"));
        assertEquals(lines[0].indexOf(" ms"), lines[1].indexOf(" ms"));
    }

    @Test
    void statusIsColouredByClassOnlyWhenAsked() {
        String esc = "\u001b[";
        for (int[] c : new int[][] {{200, 32}, {302, 36}, {404, 33}}) {
            Fixtures.X f = x();
            f.status = c[0];
            assertTrue(text(LO, ZoneOffset.UTC, true, f.build()).contains(" " + esc + c[1] + "m" + c[0] + esc + "0m GET "),
                    "status " + c[0]);
        }
        Fixtures.X error = x();
        error.status = 503;
        assertTrue(text(LO, ZoneOffset.UTC, true, error.build()).contains(esc + "1;31m503" + esc + "0m"));
        assertTrue(text(LO, ZoneOffset.UTC, true, x().unanswered("closed").build()).contains(esc + "35m---" + esc + "0m"));
        assertFalse(text(LO, ZoneOffset.UTC, false, error.build()).contains(esc), "no colour unless asked");
    }

    @Test
    void bodySizesInBinaryUnits() {
        StringBuilder b = new StringBuilder();
        for (long n : new long[] {0, 1023, 1024, 1536, 10 * 1024 - 1, 10 * 1024, 5L << 20, 7L << 30}) {
            TextWriter.size(n, b);
            b.append('|');
        }
        assertEquals("0 B|1023 B|1.0 KiB|1.5 KiB|10 KiB|10 KiB|5.0 MiB|7.0 GiB|", b.toString());
    }

    @Test
    void unansweredIpv6WithoutInterface() {
        Fixtures.X f = x().unanswered("timeout");
        f.client = "::1";
        f.server = "2001:db8::1";
        f.method = "POST";
        f.target = "/upload";
        f.requestBody = 10;
        assertEquals("16:40:01.123456 -     [::1]:54321           -> [2001:db8::1]:8080    --- POST                  10 B       - /upload [unanswered: timeout]\n",
                text(OutputOptions.defaults(), ZoneOffset.UTC, f.build()));
    }

    @Test
    void tlsRowsKeepTheInterfaceColumnAndNameTheProcessAtEachEnd() {
        Fixtures.X f = x();
        f.ifindex = 0; // the TLS source could not tell the interface
        var curl = new dev.httptrace.exchange.ProcessInfo(4242, 4242, "curl", "curl", "/usr/bin/curl");
        var nginx = new dev.httptrace.exchange.ProcessInfo(17, 18, "nginx", "nginx", null);
        Exchange both = f.build().withTls(new Exchange.Tls(curl, nginx, true));
        Exchange clientOnly = x().build().withTls(new Exchange.Tls(curl, null, true));
        String[] lines = text(LO, ZoneOffset.UTC, x().build(), both, clientOnly).split("\n");
        assertEquals("16:40:01.123456 -     127.0.0.1:54321       -> 127.0.0.1:8080        200 GET       1.234 ms     0 B     5 B /hello?x=1"
                + " [https: curl[4242] -> nginx[17]]", lines[1]);
        assertTrue(lines[2].startsWith("16:40:01.123456 lo    127.0.0.1:54321 "), lines[2]);
        assertTrue(lines[2].endsWith(" [https: curl[4242] -> ?]"), lines[2]);
        for (String l : lines) {
            assertEquals(lines[0].indexOf("/hello"), l.indexOf("/hello"), l);
        }
    }

    @Test
    void aLongInterfaceNameWidensTheColumnInsteadOfPushingOneLine() {
        OutputOptions names = new OutputOptions(i -> i == 1 ? "lo" : i == 2 ? "veth1a2b3c4d" : null, false, Set.of());
        Fixtures.X veth = x();
        veth.ifindex = 2;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        // The host's longest name is known at start: every line is aligned from the first.
        TextWriter w = new TextWriter(out, names, ZoneOffset.UTC, false, Long.MIN_VALUE, "veth1a2b3c4d".length());
        w.exchange(x().build());
        w.exchange(veth.build());
        w.exchange(x().build());
        try {
            w.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals("16:40:01.123456 veth1a2b3c4d 127.0.0.1:54321 ", lines[1].substring(0, 45));
        for (String l : lines) {
            assertEquals(lines[0].indexOf("127.0.0.1"), l.indexOf("127.0.0.1"), l);
            assertEquals(lines[0].indexOf("/hello"), l.indexOf("/hello"), l);
        }
        // Unknown at start (a name from a capture file): the column widens once, later lines align with it.
        String[] later = text(names, ZoneOffset.UTC, x().build(), veth.build(), x().build()).split("\n");
        assertEquals(later[1].indexOf("/hello"), later[2].indexOf("/hello"));
    }

    @Test
    void theDateIsPrintedForRecordsNotFromTheDayTheTraceStarted() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long day = java.time.LocalDate.parse("2026-11-23").toEpochDay();
        TextWriter w = new TextWriter(out, LO, ZoneOffset.UTC, false, day, TextWriter.MIN_IFACE_WIDTH);
        Fixtures.X next = x();
        next.requestTime = Fixtures.nanos("2026-11-24T00:00:01Z");
        w.exchange(x().build());
        w.exchange(next.build());
        try {
            w.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        assertTrue(lines[0].startsWith("16:40:01.123456 lo "), lines[0]);
        assertTrue(lines[1].startsWith("2026-11-24 00:00:01.000000 lo "), lines[1]);
    }

    @Test
    void markersAndLatencyTruncatedToMicroseconds() {
        assertEquals("16:40:01.123456 lo    127.0.0.1:54321       -> 127.0.0.1:8080        101 GET    12345.678 ms     0 B     0 B /hello?x=1"
                        + " [gap] [truncated] [upgraded] [retransmissions: 3]\n",
                text(f -> {
                    f.status = 101;
                    f.reason = "";
                    f.responseBody = 0;
                    f.responseDelay = 12_345_678_999L;
                    f.gap = true;
                    f.requestTruncated = true;
                    f.upgraded = true;
                    f.retransmissions = 3;
                }));
        assertEquals("16:40:01.123456 lo    127.0.0.1:54321       -> 127.0.0.1:8080        200 GET       0.000 ms     0 B     5 B /hello?x=1\n",
                text(f -> f.responseDelay = 999));
        assertEquals("16:40:01.123456 lo    127.0.0.1:54321       -> 127.0.0.1:8080        200 GET       0.050 ms     0 B     5 B /hello?x=1\n",
                text(f -> f.responseDelay = 50_000));
    }

    @Test
    void localTimeFollowsTheZoneIncludingDstChanges() {
        ZoneId berlin = ZoneId.of("Europe/Berlin");
        Fixtures.X winter = x();
        Fixtures.X summer = x();
        summer.requestTime = Fixtures.nanos("2026-07-01T10:00:00.000001Z");
        Fixtures.X beforeSwitch = x();
        beforeSwitch.requestTime = Fixtures.nanos("2026-03-29T00:59:59.999999Z");
        Fixtures.X afterSwitch = x();
        afterSwitch.requestTime = Fixtures.nanos("2026-03-29T01:00:00Z");
        String out = text(LO, berlin, winter.build(), summer.build(), beforeSwitch.build(), afterSwitch.build(), winter.build());
        String[] lines = out.split("\n");
        assertEquals("17:40:01.123456", lines[0].substring(0, 15));
        assertEquals("12:00:00.000001", lines[1].substring(0, 15));
        assertEquals("01:59:59.999999", lines[2].substring(0, 15));
        assertEquals("03:00:00.000000", lines[3].substring(0, 15));
        assertEquals("17:40:01.123456", lines[4].substring(0, 15));
    }

    @Test
    void controlCharactersCannotReachTheTerminal() {
        String line = text(f -> {
            f.target = "/\u001b[2J\u0007x\\y\r\n";
            f.method = "G\u009bT\u202e";
        });
        assertEquals("16:40:01.123456 lo    127.0.0.1:54321       -> 127.0.0.1:8080        200 G\\x9bT\\u202e   1.234 ms     0 B     5 B"
                        + " /\\x1b[2J\\x07x\\\\y\\x0d\\x0a\n",
                line);
    }

    @Test
    void userinfoIsRedactedUnlessSecretsShown() {
        Fixtures.X f = x();
        f.target = "http://u:p@h/";
        assertEquals("16:40:01.123456 -     127.0.0.1:54321       -> 127.0.0.1:8080        200 GET       1.234 ms     0 B     5 B http://REDACTED:REDACTED@h/\n",
                text(OutputOptions.defaults(), ZoneOffset.UTC, f.build()));
        assertEquals("16:40:01.123456 -     127.0.0.1:54321       -> 127.0.0.1:8080        200 GET       1.234 ms     0 B     5 B http://u:p@h/\n",
                text(new OutputOptions(null, true, Set.of()), ZoneOffset.UTC, f.build()));
    }

    @Test
    void unicodeIsUtf8() {
        assertEquals("16:40:01.123456 lo    127.0.0.1:54321       -> 127.0.0.1:8080        200 GET       1.234 ms     0 B     5 B /café\uD83D\uDE00\\ud800\n",
                text(f -> f.target = "/café\uD83D\uDE00\uD800"));
    }

    @Test
    void closedStream() {
        OutputStream closed = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Broken pipe");
            }
        };
        TextWriter w = new TextWriter(closed, LO, ZoneOffset.UTC, false);
        w.exchange(x().build());
        assertThrows(IOException.class, w::flush);
    }

    @Test
    void malformedRequestsHttp09AndAnomaliesAreShown() {
        assertEquals("16:40:01.123456 lo    127.0.0.1:54321       -> 127.0.0.1:8080        400           1.234 ms     0 B     5 B [malformed request: \\x16junk]\n",
                text(f -> f.malformed("\u0016junk")));
        assertEquals("16:40:01.123456 lo    127.0.0.1:54321       -> 127.0.0.1:8080        0.9 GET       1.234 ms     0 B     5 B /hello?x=1\n",
                text(f -> f.http09()));
        assertTrue(text(f -> f.anomalies = List.of("request.obs_fold")).contains(" [anomalies: request.obs_fold]"));
    }
}
