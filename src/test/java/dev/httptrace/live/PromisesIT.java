package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.httptrace.output.SchemaValidator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README promises that only a live trace shows: samples lost when the perf buffer is too
 * small (counted in the summary, the exchange marked gap), a head cut by --snaplen (marked
 * gap), and -d in milliseconds ending the trace. Their offline halves (the bounds, the
 * formats): {@code cli/ReadmePromisesTest}; --tls-lib and the rescan: {@code TlsIT}.
 */
class PromisesIT {
    private static TestServer server;

    @BeforeAll
    static void start() {
        Live.requireRoot();
        server = new TestServer("127.0.0.1");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /**
     * --perf-pages 1: a ring of one page per CPU, smaller than one record of a full 64 KiB
     * loopback segment (64 + 8192 bytes at the default snap length), so the segments of a
     * 1 MiB upload cannot be written and are lost: the summary counts them, the exchange
     * (whose head and answer fit) is reported and marked gap. With the default ring, none.
     */
    @Test
    void aPerfBufferTooSmallLosesSamplesThatAreCountedAndMarkTheExchangeGap(@TempDir Path dir) throws Exception {
        Path upload = Files.write(dir.resolve("upload"), new byte[1 << 20]);
        for (String pages : List.of("1", "256")) {
            try (TracerProcess tracer = TracerProcess.start("-i lo -p " + server.port() + " --perf-pages " + pages, "")) {
                tracer.awaitTracing();
                LauncherIT.curl("--data-binary", "@" + upload, server.uri("/items").toString());
                LauncherIT.curl(server.uri("/hello").toString());
                Tcpdump.awaitLines(tracer, 2, 30);
                Tcpdump.interrupt(tracer);
                assertEquals(0, tracer.waitFor(30), String.join("\n", tracer.stderr()));
                String stderr = String.join("\n", tracer.stderr());
                Matcher lost = Pattern.compile(" segments captured, (\\d+) lost,").matcher(stderr);
                assertTrue(lost.find(), stderr);
                long n = Long.parseLong(lost.group(1));
                List<JsonNode> records = LauncherIT.parse(tracer.stdout());
                tracer.stdout().forEach(SchemaValidator::assertValid);
                JsonNode post = records.stream().filter(r -> r.at("/url/path").asText().equals("/items")).findFirst()
                        .orElseThrow(() -> new AssertionError("no record of the upload: " + tracer.stdout() + "\n" + stderr));
                JsonNode hello = records.stream().filter(r -> r.at("/url/path").asText().equals("/hello")).findFirst()
                        .orElseThrow(() -> new AssertionError("no record of /hello: " + tracer.stdout() + "\n" + stderr));
                assertEquals(201, post.at("/http/response/status_code").asInt(), post.toString());
                assertFalse(hello.at("/httptrace/gap").asBoolean(), "the next exchange is whole: " + hello);
                if (pages.equals("1")) {
                    assertTrue(n > 0, "samples lost with one page: " + stderr);
                    assertTrue(post.at("/httptrace/gap").asBoolean(), "the upload lost segments: " + post + "\n" + stderr);
                } else {
                    assertEquals(0, n, "nothing lost with the default ring: " + stderr);
                    assertFalse(post.at("/httptrace/gap").asBoolean(), post.toString());
                    assertEquals(1 << 20, post.at("/http/request/body/size").asLong(), post.toString());
                }
            }
        }
    }

    /**
     * --snaplen 32 copies 32 bytes of each segment: a request head of one segment, longer than
     * that, is cut, and the exchange is still reported (request line and status) marked gap.
     * The same request traced at the default snap length is whole.
     */
    @Test
    void aHeadCutBySnaplenIsMarkedGap() throws Exception {
        String longHeader = "X-Long: " + "a".repeat(300);
        for (String snaplen : List.of("32", "8192")) {
            try (TracerProcess tracer = TracerProcess.start("-i lo -p " + server.port() + " --headers all --snaplen " + snaplen, "")) {
                tracer.awaitTracing();
                LauncherIT.curl("-H", longHeader, server.uri("/hello").toString());
                Tcpdump.awaitLines(tracer, 1, 30);
                Tcpdump.interrupt(tracer);
                assertEquals(0, tracer.waitFor(30), String.join("\n", tracer.stderr()));
                assertEquals(1, tracer.stdout().size(), tracer.stdout() + "\n" + tracer.stderr());
                SchemaValidator.assertValid(tracer.stdout().getFirst());
                JsonNode r = LauncherIT.parse(tracer.stdout()).getFirst();
                assertEquals("GET", r.at("/http/request/method").asText(), r.toString());
                assertEquals("/hello", r.at("/url/path").asText(), r.toString());
                assertEquals(200, r.at("/http/response/status_code").asInt(), r.toString());
                if (snaplen.equals("32")) {
                    assertTrue(r.at("/httptrace/gap").asBoolean(), "the head was cut: " + r);
                    assertTrue(r.at("/http/request/headers/x-long").isMissingNode(), r.toString());
                } else {
                    assertFalse(r.at("/httptrace/gap").asBoolean(), r.toString());
                    assertEquals("a".repeat(300), r.at("/http/request/headers/x-long").asText());
                }
            }
        }
    }

    /** -d in milliseconds ends a live trace by itself, with exit 0 and the summary. */
    @Test
    void aDurationInMillisecondsEndsTheTrace() throws Exception {
        try (TracerProcess tracer = TracerProcess.start("-i lo -p " + server.port() + " -d 500ms", "")) {
            tracer.awaitTracing();
            // Read as anything longer (500 s), it would still run when waitFor gives up.
            assertEquals(0, tracer.waitFor(60), String.join("\n", tracer.stderr()));
            assertTrue(tracer.stderr().stream().anyMatch(l -> l.contains(" exchanges (")), tracer.stderr().toString());
        }
    }
}
