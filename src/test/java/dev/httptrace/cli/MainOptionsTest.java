package dev.httptrace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The options of issue 12 as a user runs them on a capture file (the CLI in a child JVM, no
 * root): filters, verdicts and their exit codes, the summary, -o, -w, colour and progress.
 * Live counterparts (--host in the kernel, -w of a live trace): {@code live/FiltersIT}.
 */
class MainOptionsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long T0 = 1_700_000_000_000_000_000L;

    @TempDir
    Path dir;
    Path capture;

    /** Four exchanges, each on its own connection. */
    @BeforeEach
    void capture() throws IOException {
        capture = dir.resolve("four.pcapng");
        try (OutputStream out = Files.newOutputStream(capture); PcapngWriter w = new PcapngWriter(out, i -> "eth0")) {
            exchange(w, "10.0.0.1", 40001, "10.0.0.2", "GET /api/users HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n", 200, 1);
            exchange(w, "10.0.0.1", 40002, "10.0.0.2", "GET /api/orders?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", 503, 5);
            exchange(w, "10.0.0.3", 40003, "10.0.0.2", "POST /login HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 404, 2);
            exchange(w, "fd00::1", 40004, "fd00::2", "GET /v6 HTTP/1.1\r\nHost: b\r\nX-Request-Id: r-6\r\n\r\n", 200, 3);
        }
    }

    private static int time;

    private static void exchange(PcapngWriter w, String client, int port, String server, String request, int status,
                                 int latencyMillis) throws IOException {
        byte[] c = InetAddress.ofLiteral(client).getAddress();
        byte[] s = InetAddress.ofLiteral(server).getAddress();
        byte[] rq = request.getBytes(StandardCharsets.ISO_8859_1);
        byte[] rs = ("HTTP/1.1 " + status + " X\r\nContent-Length: 2\r\n\r\nok").getBytes(StandardCharsets.ISO_8859_1);
        long t = T0 + (time += 10) * 1_000_000L;
        w.write(new Segment(t, 1, c, s, port, 80, 1000, 5000, Segment.ACK | Segment.PSH, rq.length, rq));
        w.write(new Segment(t + latencyMillis * 1_000_000L, 1, s, c, 80, port, 5000, 1000 + rq.length,
                Segment.ACK | Segment.PSH, rs.length, rs));
    }

    record Run(int exit, String out, String err) {
        List<JsonNode> records() {
            return out.lines().map(l -> {
                try {
                    return JSON.readTree(l);
                } catch (IOException e) {
                    throw new AssertionError("not JSON: " + l, e);
                }
            }).toList();
        }

        List<String> paths() {
            return records().stream().map(r -> r.at("/url/path").asText()).toList();
        }
    }

    private static List<String> javaCommand() {
        String java = ProcessHandle.current().info().command().orElse("java");
        return List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName());
    }

    private Run run(String... args) throws Exception {
        return run(Map.of(), Stream.concat(javaCommand().stream(), Stream.of(args)).toList());
    }

    private Run run(Map<String, String> env, List<String> command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove("NO_COLOR");
        pb.environment().putAll(env);
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = pb.redirectError(err.toFile()).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "finished");
        return new Run(p.exitValue(), out, Files.readString(err));
    }

    private Run read(String... options) throws Exception {
        List<String> args = new ArrayList<>(List.of("-r", capture.toString()));
        args.addAll(List.of(options));
        return run(args.toArray(String[]::new));
    }

    // ---------------------------------------------------------------- filters

    @Test
    void withoutFiltersEveryExchange() throws Exception {
        assertEquals(List.of("/api/users", "/api/orders", "/login", "/v6"), read("-q").paths());
    }

    @Test
    void hostMatchesEitherEndAsAddressOrPrefixOfEitherFamily() throws Exception {
        assertEquals(List.of("/login"), read("-q", "--host", "10.0.0.3").paths());
        assertEquals(List.of("/api/users", "/api/orders", "/login"), read("-q", "--host", "10.0.0.2").paths());
        assertEquals(List.of("/v6"), read("-q", "--host", "fd00::/64").paths());
        assertEquals(List.of("/login", "/v6"), read("-q", "--host", "10.0.0.3,fd00::2").paths());
        assertEquals(List.of("/api/users", "/api/orders"), read("-q", "--host", "10.0.0.0/31").paths());
    }

    @Test
    void methodPathAndStatusFiltersAllHold() throws Exception {
        assertEquals(List.of("/login"), read("-q", "--method", "post").paths());
        assertEquals(List.of("/api/users", "/api/orders"), read("-q", "--path", "/api").paths());
        assertEquals(List.of("/api/orders", "/login"), read("-q", "--status", "5xx,404").paths());
        assertEquals(List.of("/login"), read("-q", "--status", "400-499").paths());
        assertEquals(List.of("/api/users"), read("-q", "--path", "/api", "--status", "2xx", "--method", "GET").paths());
    }

    @Test
    void aBadFilterIsExit2WithTheReasonFirst() throws Exception {
        Map<String[], String> cases = Map.of(
                new String[] {"--host", "example.com"}, "httptrace: --host: 'example.com' is not an IP address or CIDR prefix",
                new String[] {"--host", "10.0.0.0/40"}, "httptrace: --host: '10.0.0.0/40' has a prefix length that is not 0 to 32",
                new String[] {"--status", "6x"}, "httptrace: --status: '6x' is not a status",
                new String[] {"--fail-on", "500-400"}, "httptrace: --fail-on: status range '500-400' ends before it starts",
                new String[] {"--path", "api"}, "httptrace: --path must start with '/'",
                new String[] {"--headers", "all,none"}, "httptrace: --headers: 'all' and 'none' cannot be combined",
                new String[] {"--expect", "0"}, "httptrace: --expect must be at least 1",
                // Issue 21: one style, no Java type names.
                new String[] {"--count", "abc"}, "httptrace: --count: 'abc' is not a whole number\n",
                new String[] {"-d", "2x"}, "httptrace: --duration: '2x' has an unknown unit 'x' (use ms, s, m or h)\n",
                new String[] {"--nosuch"}, "httptrace: unknown option '--nosuch'\n");
        for (var c : cases.entrySet()) {
            Run r = read(c.getKey());
            assertEquals(ExitCode.USAGE, r.exit(), String.join(" ", c.getKey()));
            assertTrue(r.err().startsWith(c.getValue()), r.err());
            assertEquals("", r.out());
        }
    }

    /** Issue 21: what tcpdump users reach for. */
    @Test
    void tcpdumpFilterExpressionsIfaceAnyListInterfacesAndSuggestions() throws Exception {
        assertEquals(List.of("/login"), read("-q", "port", "80", "and", "host", "10.0.0.3").paths());
        assertEquals(List.of("/login", "/v6"), read("-q", "tcp port 80 and (host 10.0.0.3 or net fd00::/64)").paths());
        Run src = read("-q", "src", "host", "10.0.0.3");
        assertEquals(ExitCode.USAGE, src.exit());
        assertTrue(src.err().startsWith("httptrace: filter expression: 'src' is not supported: the kernel filters match"
                + " either end of a connection"), src.err());
        Run both = read("-q", "-p", "80", "port", "80");
        assertEquals(ExitCode.USAGE, both.exit());
        assertTrue(both.err().contains("either with -p (--host) or in the expression"), both.err());

        assertEquals(4, read("-q", "-i", "any").paths().size(), "-i any: all interfaces, as without -i");

        Run list = run("-D");
        assertEquals(ExitCode.OK, list.exit(), list.err());
        assertTrue(list.out().lines().anyMatch(l -> l.matches("\\d+\\.lo \\[Up, Loopback\\]")), list.out());
        assertTrue(list.out().endsWith("any (all interfaces, as without -i)\n"), list.out());

        Run typo = run("--ifcae", "lo");
        assertEquals(ExitCode.USAGE, typo.exit());
        assertTrue(typo.err().startsWith("httptrace: unknown option '--ifcae' (did you mean --iface?)"), typo.err());
    }

    @Test
    void durationsMayHaveDecimals() throws Exception {
        Run r = read("-q", "-d", "1.5s");
        assertEquals(ExitCode.OK, r.exit(), r.err());
        assertEquals(4, r.records().size());
    }

    @Test
    void headersDefaultSetAllAndNamed() throws Exception {
        JsonNode v6 = read("-q").records().get(3);
        assertEquals("r-6", v6.at("/http/request/headers/x-request-id").asText());
        JsonNode users = read("-q").records().get(0);
        assertTrue(users.at("/http/request/headers/accept").isMissingNode(), "Accept is not in the default set");
        assertEquals("*/*", read("-q", "--headers", "all").records().get(0).at("/http/request/headers/accept").asText());
        JsonNode named = read("-q", "--headers", "accept").records().get(0);
        assertEquals(1, named.at("/http/request/headers").size());
        assertEquals(0, read("-q", "--headers", "none").records().get(0).at("/http/request/headers").size());
    }

    // ---------------------------------------------------------------- verdicts

    @Test
    void failOnIsExit8DecidedAtTheEndOnTheExchangesWritten() throws Exception {
        Run r = read("-q", "--fail-on", "5xx");
        assertEquals(ExitCode.FAIL_ON, r.exit());
        assertEquals(4, r.records().size(), "every exchange is still written");
        assertEquals("httptrace: 1 exchange with status 5xx (--fail-on)\n", r.err());
        assertEquals(ExitCode.OK, read("-q", "--fail-on", "5xx", "--status", "2xx").exit(), "filtered out first");
        assertEquals(ExitCode.OK, read("-q", "--fail-on", "5xx", "--count", "1").exit(), "stopped before the 503");
        assertEquals(ExitCode.FAIL_ON, read("-q", "--fail-on", "404,503").exit());
    }

    @Test
    void expectIsExit9WhenFewerExchangesWereWritten() throws Exception {
        assertEquals(ExitCode.OK, read("-q", "--expect", "4").exit());
        Run r = read("-q", "--expect", "2", "--method", "POST");
        assertEquals(ExitCode.EXPECT, r.exit());
        assertEquals("httptrace: expected at least 2 exchanges, saw 1 (--expect)\n", r.err());
        Run both = read("-q", "--expect", "9", "--fail-on", "5xx");
        assertEquals(ExitCode.FAIL_ON, both.exit(), "--fail-on wins");
        assertEquals("httptrace: 1 exchange with status 5xx (--fail-on)\n"
                + "httptrace: expected at least 9 exchanges, saw 4 (--expect)\n", both.err(), "both are said");
    }

    /** Issue 21: the README's recipe '2>&1 >/dev/null | jq' needs stderr to be the JSON object alone. */
    @Test
    void statsJsonIsAllOfStderrWithTheVerdictInside() throws Exception {
        for (String[] quiet : new String[][] {{"-q"}, {}}) {
            List<String> args = new ArrayList<>(List.of(quiet));
            args.addAll(List.of("--stats", "json", "--fail-on", "5xx", "--expect", "9"));
            Run r = read(args.toArray(String[]::new));
            assertEquals(ExitCode.FAIL_ON, r.exit());
            assertEquals(1, r.err().lines().count(), "one line: " + r.err());
            JsonNode s = JSON.readTree(r.err());
            assertEquals(8, s.get("exit_code").asInt());
            assertFalse(s.at("/verdict/passed").asBoolean());
            assertEquals("[\"1 exchange with status 5xx (--fail-on)\",\"expected at least 9 exchanges, saw 4 (--expect)\"]",
                    s.at("/verdict/reasons").toString());
        }
        JsonNode passed = JSON.readTree(read("--stats", "json", "--expect", "4").err());
        assertTrue(passed.at("/verdict/passed").asBoolean());
        assertEquals(0, passed.at("/verdict/reasons").size());
    }

    // ---------------------------------------------------------------- summary

    @Test
    void summaryOnStderrAndStatsJsonForScripts() throws Exception {
        Run text = read();
        assertTrue(text.err().contains("httptrace: 4 written: 2xx 2, 3xx 0, 4xx 1, 5xx 1, unanswered 0\n"), text.err());
        assertTrue(text.err().contains("httptrace: latency p50 "), text.err());
        assertTrue(text.err().contains("httptrace: slowest: GET /api/orders 503 5.000 ms"), text.err());
        assertTrue(text.err().contains("httptrace: most frequent paths: "), text.err());

        Run json = read("-q", "--stats", "json", "--fail-on", "503");
        JsonNode s = JSON.readTree(json.err().lines().reduce((a, b) -> b).orElseThrow());
        assertEquals(4, s.get("exchanges").asInt());
        assertEquals(1, s.at("/status/5xx").asInt());
        assertEquals(5.0, s.at("/latency_ms/max").asDouble());
        assertEquals("/api/orders", s.at("/slowest/0/path").asText());
        assertEquals(8, s.at("/file/packets").asInt());
        assertEquals(ExitCode.FAIL_ON, s.get("exit_code").asInt());
        assertFalse(s.at("/verdict/passed").asBoolean());
    }

    // ---------------------------------------------------------------- -r - from a pipe

    /**
     * Issue 21: `tcpdump -U -w - | httptrace -r -` printed nothing until tcpdump ended. Each
     * record must come out once its exchange is in the pipe, while the writer keeps it open;
     * and a signal must end the read (summary, exit 0) even when the writer sends nothing more.
     */
    @Test
    void readingAPipeWritesEachRecordAsItsExchangeArrivesAndStopsOnSigterm() throws Exception {
        var bytes = new java.io.ByteArrayOutputStream();
        var w = new PcapngWriter(bytes, i -> "eth0");
        exchange(w, "10.0.0.1", 40001, "10.0.0.2", "GET /first HTTP/1.1\r\nHost: a\r\n\r\n", 200, 1);
        w.flush();
        byte[] first = bytes.toByteArray();
        exchange(w, "10.0.0.1", 40002, "10.0.0.2", "GET /second HTTP/1.1\r\nHost: a\r\n\r\n", 200, 1);
        w.flush();
        byte[] all = bytes.toByteArray();

        Process p = new ProcessBuilder(Stream.concat(javaCommand().stream(), Stream.of("-r", "-")).toList())
                .redirectError(dir.resolve("pipe-err.txt").toFile()).start();
        List<String> out = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (var r = p.inputReader()) {
                r.lines().forEach(out::add);
            } catch (IOException | java.io.UncheckedIOException ignored) {
                // ended
            }
        });
        try (OutputStream stdin = p.getOutputStream()) {
            stdin.write(first);
            stdin.flush();
            awaitLines(out, 1, p);
            assertTrue(out.getFirst().contains("\"/first\""), out.toString());
            stdin.write(all, first.length, all.length - first.length);
            stdin.flush();
            awaitLines(out, 2, p);
            assertTrue(out.get(1).contains("\"/second\""), out.toString());
            // The pipe stays open, nothing more comes: SIGTERM ends the read.
            Process kill = new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start();
            assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0);
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "ended on SIGTERM with its input still open");
        } finally {
            p.destroy(); // ours, by its handle (a no-op once it ended)
        }
        reader.join(5_000);
        String err = Files.readString(dir.resolve("pipe-err.txt"));
        assertEquals(0, p.exitValue(), err);
        assertTrue(err.contains("httptrace: 2 written: 2xx 2"), "summary: " + err);
        assertEquals(2, out.size(), out.toString());
    }

    private static void awaitLines(List<String> lines, int n, Process p) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (lines.size() < n && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(n, lines.size(), "records while the pipe is open: " + lines);
    }

    // ---------------------------------------------------------------- files

    @Test
    void outputFileIsAppendedAndStdoutStaysEmpty() throws Exception {
        Path out = dir.resolve("records.jsonl");
        Files.writeString(out, "{\"before\":true}\n");
        Run r = read("-q", "-o", out.toString());
        assertEquals(ExitCode.OK, r.exit(), r.err());
        assertEquals("", r.out());
        read("-q", "-o", out.toString(), "--method", "POST");
        List<String> lines = Files.readAllLines(out);
        assertEquals(6, lines.size());
        assertEquals("{\"before\":true}", lines.getFirst());
        assertTrue(lines.getLast().contains("\"/login\""));
    }

    @Test
    void unwritableOutputFilesAreExit7InOneLine() throws Exception {
        for (String option : List.of("-o", "-w")) {
            Run r = read("-q", option, dir.resolve("no/such/dir/file").toString());
            assertEquals(ExitCode.WRITE_ERROR, r.exit(), option);
            assertEquals("httptrace: cannot write " + dir.resolve("no/such/dir/file") + ": No such file or directory\n",
                    r.err());
            assertEquals("", r.out());
        }
    }

    @Test
    void pcapngWrittenIsReadBackToTheSameRecordsAndByTshark() throws Exception {
        Path written = dir.resolve("again.pcapng");
        Run first = read("-q", "-w", written.toString());
        Run again = run("-q", "-r", written.toString());
        assertEquals(first.out(), again.out());
        assertEquals(4, again.records().size());
        assertEquals("eth0", again.records().get(0).at("/httptrace/interface").asText(), "pcapng if_name");

        Process tshark = new ProcessBuilder("tshark", "-r", written.toString(), "-Y", "http.request",
                "-T", "fields", "-e", "http.request.method", "-e", "http.request.uri", "-e", "ip.src", "-e", "ipv6.src",
                "-e", "tcp.srcport").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String fields = new String(tshark.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(tshark.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, tshark.exitValue());
        assertEquals(List.of("GET\t/api/users\t10.0.0.1\t\t40001", "GET\t/api/orders?x=1\t10.0.0.1\t\t40002",
                "POST\t/login\t10.0.0.3\t\t40003", "GET\t/v6\t\tfd00::1\t40004"), fields.lines().toList());
    }

    // ---------------------------------------------------------------- terminals

    /** Runs the command under script(1), so that stdin, stdout and stderr are a pseudo-terminal. */
    private Run inTerminal(Map<String, String> env, String... args) throws Exception {
        String command = Stream.concat(javaCommand().stream(), Stream.of(args))
                .map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
        return run(env, List.of("script", "-qefc", command, "/dev/null"));
    }

    @Test
    void textIsColouredByStatusOnATerminalUnlessNoColor() throws Exception {
        String esc = "\u001b[";
        Run terminal = inTerminal(Map.of(), "-q", "-r", capture.toString(), "-f", "text");
        assertTrue(terminal.out().contains(esc + "32m200" + esc + "0m"), terminal.out());
        assertTrue(terminal.out().contains(esc + "1;31m503" + esc + "0m"), terminal.out());
        assertTrue(terminal.out().contains(esc + "33m404" + esc + "0m"), terminal.out());
        Run noColor = inTerminal(Map.of("NO_COLOR", "1"), "-q", "-r", capture.toString(), "-f", "text");
        assertFalse(noColor.out().contains(esc), noColor.out());
        assertEquals(4, noColor.out().lines().count());
        assertFalse(read("-q", "-f", "text").out().contains(esc), "not a terminal: no colour");
        assertTrue(read("-q", "-f", "text", "--color", "always").out().contains(esc + "32m200"));
        assertFalse(inTerminal(Map.of(), "-q", "-r", capture.toString(), "-f", "text", "--color", "never")
                .out().contains(esc));
    }

    @Test
    void readingShowsProgressOnATerminalOnly() throws Exception {
        Path big = dir.resolve("big.pcapng");
        try (OutputStream out = Files.newOutputStream(big); PcapngWriter w = new PcapngWriter(out, i -> null)) {
            for (int i = 0; i < 3000; i++) {
                exchange(w, "10.0.0.1", 1024 + i, "10.0.0.2", "GET /n HTTP/1.1\r\nHost: a\r\n\r\n", 200, 1);
            }
        }
        Run terminal = inTerminal(Map.of(), "-r", big.toString(), "-o", dir.resolve("o.jsonl").toString());
        assertEquals(0, terminal.exit(), terminal.out());
        assertTrue(terminal.out().contains("httptrace: reading " + big + ": "), terminal.out());
        assertTrue(terminal.out().contains("% ("), terminal.out());
        assertTrue(terminal.out().contains("httptrace: 3000 written"), terminal.out());
        Run piped = run("-r", big.toString(), "-o", dir.resolve("p.jsonl").toString());
        assertFalse(piped.err().contains("reading"), piped.err());
    }
}
