package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.httptrace.live.ScriptedServer.After;
import dev.httptrace.live.ScriptedServer.Reply;
import dev.httptrace.output.SchemaValidator;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Joining mid-stream: the tracer attaches while a keep-alive connection is idle and another is
 * in the middle of a long, slow body whose segments each begin with text that looks like HTTP
 * (request lines, status lines, one with a Content-Length far beyond the body). Nothing from
 * inside the body may become a record, and the exchanges that follow on the same connections
 * and on a new one are reported exactly.
 *
 * <p>The peer holding the body waits at a gate until the tracer says "tracing on", so the
 * tracer always joins inside the body, however long it takes to start; then the rest of the
 * body goes out one 32 KiB segment every 50 ms.
 */
class MidStreamIT {
    static final int PIECE = 32 * 1024;
    static final int PIECES = 64; // 2 MiB
    static final int BEFORE_ATTACH = 8; // pieces sent before the tracer attaches
    static final long PAUSE_MILLIS = 50;

    /** What the body segments begin with, in turn; in the download the first one the tracer sees is a request line. */
    static final String[] LOOKALIKES = {
        "GET /fake HTTP/1.1\r\nHost: fake\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000000\r\n\r\n",
        "POST /fake-upload HTTP/1.1\r\nHost: fake\r\nContent-Length: 5\r\n\r\nhello",
        "HTTP/1.1 204 No Content\r\n\r\n",
    };

    /**
     * In the upload, the first body segment the tracer sees begins with the status line whose
     * Content-Length runs far past the body: the client looks like a server until the real
     * server answers.
     */
    static final int UPLOAD_FIRST_SEEN = 2;

    @BeforeEach
    void root() {
        Live.requireRoot();
    }

    @ParameterizedTest(name = "over {0}")
    @ValueSource(strings = {"127.0.0.1", "::1"})
    void joiningInsideADownloadReportsNothingFromItsBodyAndTheExchangesAfterItExactly(String loopback)
            throws Exception {
        CountDownLatch attached = new CountDownLatch(1);
        List<byte[]> download = new ArrayList<>();
        download.add(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                + (long) PIECE * PIECES + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        for (int i = 0; i < PIECES; i++) {
            download.add(piece(i - BEFORE_ATTACH));
        }
        Reply slow = Reply.bytes(After.KEEP_ALIVE, download).paced(PAUSE_MILLIS, attached, 1 + BEFORE_ATTACH);
        Instant started = Instant.now();
        try (var server = new ScriptedServer(loopback, r -> switch (r.path()) {
                case "/warmup" -> Reply.keepAlive(ok("warm"));
                case "/slow" -> slow;
                case "/after-download", "/after-idle", "/fresh" -> Reply.keepAlive(ok(r.path().substring(1)));
                default -> null;
            });
             RawClient idle = new RawClient(server.address());
             RawClient downloading = new RawClient(server.address())) {
            idle.send(get("/warmup"));
            idle.expect(ok("warm"));
            downloading.send(get("/slow"));
            downloading.read(download.getFirst().length + BEFORE_ATTACH * PIECE); // then the server waits

            try (TracerProcess tracer = TracerProcess.start("-i lo -p " + server.port() + " -d 120s", "")) {
                tracer.awaitTracing();
                attached.countDown();
                downloading.read((PIECES - BEFORE_ATTACH) * PIECE);

                downloading.send(get("/after-download"));
                downloading.expect(ok("after-download"));
                idle.send(get("/after-idle"));
                idle.expect(ok("after-idle"));
                int fresh;
                try (RawClient another = new RawClient(server.address())) {
                    fresh = another.localPort();
                    another.send(get("/fresh"));
                    another.expect(ok("fresh"));
                }
                Tcpdump.awaitLines(tracer, 3, 20);
                Tcpdump.interrupt(tracer); // the trace ends: anything still pending would be reported now
                assertEquals(0, tracer.waitFor(30), "exit code; stderr: " + tracer.stderr());
                assertEquals(List.of(), server.failures());

                List<String> lines = tracer.stdout();
                lines.forEach(SchemaValidator::assertValid);
                List<JsonNode> records = Tcpdump.parse(lines);
                assertEquals(List.of("/after-download", "/after-idle", "/fresh"),
                        records.stream().map(r -> r.at("/url/original").asText()).sorted().toList(),
                        "exactly the exchanges after the tracer joined; stderr: " + tracer.stderr());
                assertReportedExactly(find(records, "/after-download"), loopback, downloading.localPort(),
                        server.port(), "after-download", started);
                assertReportedExactly(find(records, "/after-idle"), loopback, idle.localPort(), server.port(),
                        "after-idle", started);
                assertReportedExactly(find(records, "/fresh"), loopback, fresh, server.port(), "fresh", started);
                assertTrue(tracer.stderr().stream().anyMatch(l -> l.contains(" 3 exchanges (0 unanswered)")),
                        "summary: " + tracer.stderr());
            }
        }
    }

    @ParameterizedTest(name = "over {0}")
    @ValueSource(strings = {"127.0.0.1", "::1"})
    void joiningInsideAnUploadReportsNothingFromItsBodyAndTheExchangeAfterItExactly(String loopback)
            throws Exception {
        Instant started = Instant.now();
        try (var server = new ScriptedServer(loopback, r -> switch (r.path()) {
                case "/upload" -> Reply.keepAlive("HTTP/1.1 201 Created\r\nContent-Length: 7\r\n\r\ncreated");
                case "/after-upload" -> Reply.keepAlive(ok("after-upload"));
                default -> null;
            });
             RawClient uploading = new RawClient(server.address())) {
            uploading.send("POST /upload HTTP/1.1\r\nHost: midstream\r\nContent-Type: message/http\r\nContent-Length: "
                    + (long) PIECE * PIECES + "\r\n\r\n");
            for (int i = 0; i < BEFORE_ATTACH; i++) {
                uploading.write(piece(i - BEFORE_ATTACH + UPLOAD_FIRST_SEEN));
            }
            try (TracerProcess tracer = TracerProcess.start("-i lo -p " + server.port() + " -d 120s", "")) {
                tracer.awaitTracing();
                for (int i = BEFORE_ATTACH; i < PIECES; i++) {
                    Thread.sleep(PAUSE_MILLIS); // one segment each
                    uploading.write(piece(i - BEFORE_ATTACH + UPLOAD_FIRST_SEEN));
                }
                uploading.expect("HTTP/1.1 201 Created\r\nContent-Length: 7\r\n\r\ncreated");
                uploading.send(get("/after-upload"));
                uploading.expect(ok("after-upload"));

                Tcpdump.awaitLines(tracer, 1, 20);
                Tcpdump.interrupt(tracer);
                assertEquals(0, tracer.waitFor(30), "exit code; stderr: " + tracer.stderr());
                assertEquals(List.of(), server.failures());

                List<String> lines = tracer.stdout();
                lines.forEach(SchemaValidator::assertValid);
                List<JsonNode> records = Tcpdump.parse(lines);
                assertEquals(List.of("/after-upload"), records.stream().map(r -> r.at("/url/original").asText()).toList(),
                        "exactly the exchange after the upload; stderr: " + tracer.stderr());
                assertReportedExactly(records.getFirst(), loopback, uploading.localPort(), server.port(),
                        "after-upload", started);
            }
        }
    }

    /**
     * Body piece {@code k} (negative before the tracer attaches): a look-alike head, then plain
     * lines, {@value #PIECE} bytes in all, beginning with {@code LOOKALIKES[k mod 5]}.
     */
    static byte[] piece(int k) {
        StringBuilder text = new StringBuilder(PIECE);
        text.append(LOOKALIKES[Math.floorMod(k, LOOKALIKES.length)]);
        int line = 0;
        while (text.length() < PIECE) {
            text.append("body line ").append(k).append('.').append(line++).append(" of plain text\n");
        }
        return Arrays.copyOf(text.toString().getBytes(StandardCharsets.ISO_8859_1), PIECE);
    }

    static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: midstream\r\nUser-Agent: raw-client\r\n\r\n";
    }

    static String ok(String body) {
        return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
    }

    private static JsonNode find(List<JsonNode> records, String target) {
        return records.stream().filter(r -> r.at("/url/original").asText().equals(target)).findFirst().orElseThrow();
    }

    /** Every field of the record for {@code GET /<body>} answered by {@code ok(body)}, clocks within the test. */
    private static void assertReportedExactly(JsonNode r, String loopback, int clientPort, int serverPort, String body,
                                              Instant started) throws Exception {
        String address = InetAddress.getByName(loopback).getHostAddress().replace("0:0:0:0:0:0:0:1", "::1");
        String expected = """
                {"network":{"transport":"tcp","type":"%s","protocol":{"name":"http","version":"1.1"}},
                 "client":{"address":"%s","port":%d},"server":{"address":"%s","port":%d},
                 "url":{"original":"/%s","path":"/%s"},"user_agent":{"original":"raw-client"},
                 "http":{"request":{"method":"GET","headers":{"host":"midstream","user-agent":"raw-client"},"body":{"size":0}},
                         "response":{"status_code":200,"reason":"OK",
                                     "headers":{"content-type":"text/plain","content-length":"%d"},"body":{"size":%d}}},
                 "httptrace":{"schema_version":1,"interface":"lo","gap":false,"truncated":false,"upgraded":false}}
                """.formatted(loopback.contains(":") ? "ipv6" : "ipv4", address, clientPort, address, serverPort,
                body, body, body.length(), body.length());
        ObjectNode actual = r.deepCopy();
        Instant timestamp = Instant.parse(actual.remove("timestamp").asText());
        long duration = actual.remove("event").get("duration").asLong();
        ((ObjectNode) actual.get("httptrace")).remove("retransmissions"); // how the network behaved, not the exchange
        assertEquals(SchemaValidator.MAPPER.readTree(expected), actual);
        assertTrue(!timestamp.isBefore(started) && !timestamp.isAfter(Instant.now()), "timestamp " + timestamp);
        assertTrue(duration > 0 && duration < 10_000_000_000L, "latency " + duration);
    }
}
