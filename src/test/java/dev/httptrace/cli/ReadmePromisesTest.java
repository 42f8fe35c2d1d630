package dev.httptrace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.httptrace.capture.PcapngWriter;
import dev.httptrace.capture.Segment;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.TypeConversionException;

/**
 * What the README promises of the command line, run as a user runs it (the CLI in a child
 * JVM, no root): redaction from the command line (--redact-header, --show-secrets), -r -
 * from stdin, the bounds of --snaplen and --perf-pages, every -d format, --tls-lib naming
 * an unreadable file (exit 2), and exit 5 when the native library cannot be loaded.
 * Their live halves (a head cut by --snaplen, lost samples, --tls-lib probing, the rescan):
 * {@code live/PromisesIT}.
 */
class ReadmePromisesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long T0 = 1_700_000_000_000_000_000L;

    @TempDir
    Path dir;
    Path capture;

    /** One exchange whose request and response carry every kind of secret and one custom header. */
    @BeforeEach
    void capture() throws IOException {
        capture = dir.resolve("secrets.pcapng");
        byte[] c = InetAddress.ofLiteral("10.0.0.1").getAddress();
        byte[] s = InetAddress.ofLiteral("10.0.0.2").getAddress();
        byte[] rq = ("GET /account HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer tok-123\r\n"
                + "Proxy-Authorization: Basic cHJveHk=\r\nCookie: session=abc\r\nX-Api-Key: key-456\r\n"
                + "X-Tenant: acme\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] rs = "HTTP/1.1 200 OK\r\nSet-Cookie: session=def\r\nContent-Length: 2\r\n\r\nok"
                .getBytes(StandardCharsets.ISO_8859_1);
        try (OutputStream out = Files.newOutputStream(capture); PcapngWriter w = new PcapngWriter(out, i -> "eth0")) {
            w.write(new Segment(T0, 1, c, s, 40001, 80, 1000, 5000, Segment.ACK | Segment.PSH, rq.length, rq));
            w.write(new Segment(T0 + 1_000_000, 1, s, c, 80, 40001, 5000, 1000 + rq.length,
                    Segment.ACK | Segment.PSH, rs.length, rs));
        }
    }

    private record Run(int exit, String out, String err) {
        JsonNode only() throws IOException {
            List<String> lines = out.lines().toList();
            assertEquals(1, lines.size(), out + err);
            return JSON.readTree(lines.getFirst());
        }
    }

    private Run run(List<String> jvmOptions, Path stdin, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        Path err = Files.createTempFile(dir, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(err.toFile());
        if (stdin != null) {
            pb.redirectInput(stdin.toFile());
        }
        Process p = pb.start();
        if (stdin == null) {
            p.getOutputStream().close();
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "finished");
        return new Run(p.exitValue(), out, Files.readString(err));
    }

    private Run run(String... args) throws Exception {
        return run(List.of(), null, args);
    }

    // ---------------------------------------------------------------- redaction

    @Test
    void secretsAreRedactedByDefaultAndRedactHeaderAddsOne() throws Exception {
        JsonNode byDefault = run("-q", "--headers", "all", "-r", capture.toString()).only();
        JsonNode q = byDefault.at("/http/request/headers");
        for (String secret : List.of("authorization", "proxy-authorization", "cookie")) {
            assertEquals("[REDACTED]", q.path(secret).asText(), secret + ": " + byDefault);
        }
        assertEquals("[REDACTED]", byDefault.at("/http/response/headers/set-cookie").asText(), byDefault.toString());
        assertEquals("key-456", q.path("x-api-key").asText(), "not a default secret");

        Run named = run("-q", "--headers", "all", "--redact-header", "X-Api-Key", "-r", capture.toString());
        JsonNode r = named.only();
        assertEquals("[REDACTED]", r.at("/http/request/headers/x-api-key").asText(), r.toString());
        assertEquals("acme", r.at("/http/request/headers/x-tenant").asText(), "only the header named");
        assertEquals("[REDACTED]", r.at("/http/request/headers/authorization").asText(), "the defaults stay");
        assertFalse(named.out().contains("key-456") || named.out().contains("tok-123"), named.out());

        JsonNode two = run("-q", "--headers", "all", "--redact-header", "x-api-key,X-TENANT", "-r", capture.toString()).only();
        assertEquals("[REDACTED]", two.at("/http/request/headers/x-tenant").asText(), "comma-separated, any case");
        assertEquals("[REDACTED]", two.at("/http/request/headers/x-api-key").asText());

        // Redaction applies to whatever --headers selects, and to the text format as well.
        Run text = run("-q", "-f", "text", "--headers", "all", "--redact-header", "x-api-key", "-r", capture.toString());
        assertEquals(0, text.exit(), text.err());
        assertFalse(text.out().contains("key-456") || text.out().contains("tok-123"), text.out());
    }

    @Test
    void showSecretsPrintsTheValues() throws Exception {
        Run shown = run("-q", "--headers", "all", "--show-secrets", "-r", capture.toString());
        JsonNode r = shown.only();
        assertEquals("Bearer tok-123", r.at("/http/request/headers/authorization").asText(), r.toString());
        assertEquals("Basic cHJveHk=", r.at("/http/request/headers/proxy-authorization").asText());
        assertEquals("session=abc", r.at("/http/request/headers/cookie").asText());
        assertEquals("session=def", r.at("/http/response/headers/set-cookie").asText());
        assertFalse(shown.out().contains("[REDACTED]"), shown.out());
    }

    // ---------------------------------------------------------------- -r -

    @Test
    void dashReadsTheCaptureFromStdin() throws Exception {
        Run fromFile = run("-q", "-r", capture.toString());
        Run fromStdin = run(List.of(), capture, "-q", "-r", "-");
        assertEquals(0, fromStdin.exit(), fromStdin.err());
        assertEquals("/account", fromStdin.only().at("/url/path").asText());
        assertEquals(fromFile.out(), fromStdin.out(), "the same records as from the file");
        Run summary = run(List.of(), capture, "-r", "-");
        assertTrue(summary.err().contains("1 exchange (0 unanswered)"), summary.err());
    }

    // ---------------------------------------------------------------- bounds

    @Test
    void snaplenIsOneTo32768() throws Exception {
        for (String bad : List.of("0", "32769", "-1")) {
            Run r = run("-q", "--snaplen", bad, "-r", capture.toString());
            assertEquals(ExitCode.USAGE, r.exit(), bad + ": " + r);
            assertTrue(r.err().startsWith("httptrace: --snaplen must be between 1 and 32768"), r.err());
            assertEquals("", r.out());
        }
        for (String good : List.of("1", "32768")) {
            Run r = run("-q", "--snaplen", good, "-r", capture.toString());
            assertEquals(0, r.exit(), good + ": " + r.err());
        }
    }

    @Test
    void perfPagesIsAPowerOfTwo() throws Exception {
        for (String bad : List.of("0", "3", "6", "1000", "-4")) {
            Run r = run("-q", "--perf-pages", bad, "-r", capture.toString());
            assertEquals(ExitCode.USAGE, r.exit(), bad + ": " + r);
            assertTrue(r.err().startsWith("httptrace: --perf-pages must be a power of two"), r.err());
        }
        for (String good : List.of("1", "2", "64", "1024")) {
            assertEquals(0, run("-q", "--perf-pages", good, "-r", capture.toString()).exit(), good);
        }
    }

    // ---------------------------------------------------------------- -d

    @Test
    void everyDurationFormatOfTheReadme() {
        DurationConverter d = new DurationConverter();
        assertEquals(Duration.ofMillis(500), d.convert("500ms"));
        assertEquals(Duration.ofSeconds(30), d.convert("30s"));
        assertEquals(Duration.ofMinutes(5), d.convert("5m"));
        assertEquals(Duration.ofHours(2), d.convert("2h"));
        assertEquals(Duration.ofSeconds(45), d.convert("45"), "plain numbers are seconds");
        assertEquals(Duration.ofMillis(1500), d.convert("1.5s"), "decimals");
        for (String bad : List.of("", "ms", "5x", "0", "0ms", "-5s", "5 m s")) {
            assertThrows(TypeConversionException.class, () -> d.convert(bad), bad);
        }
    }

    @Test
    void aBadDurationOnTheCommandLineIsExit2() throws Exception {
        Run r = run("-i", "lo", "-d", "5x");
        assertEquals(ExitCode.USAGE, r.exit(), r.toString());
        assertTrue(r.err().contains("'5x' has an unknown unit 'x' (use ms, s, m or h)"), r.err());
    }

    // ---------------------------------------------------------------- --tls-lib, exit 5

    @Test
    void tlsLibNamingNoReadableFileIsExit2BeforeAnythingIsLoaded() throws Exception {
        for (String lib : List.of(dir.resolve("missing.so").toString(), dir.toString())) {
            Run r = run("-i", "lo", "--tls-lib", lib);
            assertEquals(ExitCode.USAGE, r.exit(), r.toString());
            assertTrue(r.err().startsWith("httptrace: --tls-lib: cannot read '" + lib + "'"), r.err());
        }
    }

    /** -Dhttptrace.native.lib names the shim to load (README, How it works); one that cannot be loaded is exit 5. */
    @Test
    void aNativeLibraryThatCannotBeLoadedIsExit5() throws Exception {
        Path notALibrary = Files.writeString(dir.resolve("libhttptrace.so"), "not an ELF file\n");
        Run bad = run(List.of("-Dhttptrace.native.lib=" + notALibrary), null, "-i", "lo", "-d", "1s");
        assertEquals(ExitCode.BPF, bad.exit(), bad.toString());
        assertTrue(bad.err().contains("cannot load the native library"), bad.err());
        assertEquals("", bad.out());

        Path missing = dir.resolve("nowhere/libhttptrace.so");
        Run gone = run(List.of("-Dhttptrace.native.lib=" + missing), null, "-i", "lo", "-d", "1s");
        assertEquals(ExitCode.BPF, gone.exit(), gone.toString());
        assertTrue(gone.err().contains("native library " + missing + " (from -Dhttptrace.native.lib) is not readable"),
                gone.err());
    }
}
