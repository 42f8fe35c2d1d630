package dev.httptrace.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.httptrace.output.SchemaValidator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * HTTP/2 traced live on loopback, against real peers from Debian's packages: nghttpd with
 * nghttp and h2load, curl with prior knowledge, nginx's cleartext http2, a python-h2 server whose
 * frames the test controls (trailers, padding, RST_STREAM, GOAWAY, CONTINUATION), gRPC
 * (python3-grpcio), a client joined mid-way, tshark as an oracle and {@code -r} of the tracer's
 * own {@code -w} capture. Servers start once for the class.
 */
class Http2IT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PYTHON = "/usr/bin/python3"; // Debian's, with python3-h2 and python3-grpcio
    private static Path dir;
    private static final List<Process> servers = new ArrayList<>();
    private static int nghttpd;
    private static int nginx;
    private static int pyH2;
    private static int grpc;

    @BeforeAll
    static void startServers() throws Exception {
        Live.requireRoot();
        dir = Files.createTempDirectory("httptrace-h2");
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("index.html"), "hello\n");
        Files.write(www.resolve("big"), new byte[1 << 20]);
        nghttpd = startOnFreePort(port -> List.of("nghttpd", "--no-tls", "-d", www.toString(), Integer.toString(port)));
        nginx = startOnFreePort(port -> {
            writeNginxConf(port, www);
            return List.of("nginx", "-c", dir.resolve("nginx.conf").toString(), "-p", dir.toString());
        });
        pyH2 = startReportingPort(PYTHON, resource("h2_server.py"), "0");
        grpc = startReportingPort(PYTHON, resource("grpc_peer.py"), "server", "0");
    }

    @AfterAll
    static void stopServers() throws Exception {
        for (Process p : servers) Live.stop(p);
        Live.deleteTree(dir);
    }

    @Test
    void severalStreamsOnOneConnectionAreOneRecordEachAsTsharkSeesThemAndReadBackTheSame() throws Exception {
        Path capture = dir.resolve("nghttp.pcapng");
        List<String> live;
        try (TracerProcess tracer = TracerProcess.start("-i lo -p " + nghttpd + " -w " + capture, "")) {
            tracer.awaitTracing();
            run("nghttp", "-n", url(nghttpd, "/index.html"), url(nghttpd, "/big"), url(nghttpd, "/nope"));
            // A client that allows no dynamic table: the server's first block carries a size update to 0.
            run("nghttp", "-n", "-c", "0", url(nghttpd, "/index.html?small-table"));
            Tcpdump.awaitLines(tracer, 4, 20);
            Tcpdump.interrupt(tracer);
            assertEquals(0, tracer.waitFor(30), String.join("\n", tracer.stderr()));
            live = tracer.stdout();
        }
        Map<String, JsonNode> byPath = byTarget(live);
        assertEquals(Set.of("/index.html", "/big", "/nope", "/index.html?small-table"), byPath.keySet());
        JsonNode big = byPath.get("/big");
        assertEquals("2", big.at("/network/protocol/version").asText());
        assertEquals("GET", big.at("/http/request/method").asText());
        assertEquals(200, big.at("/http/response/status_code").asInt());
        assertEquals(1 << 20, big.at("/http/response/body/size").asLong(), "whole segments captured: " + big);
        assertFalse(big.at("/httptrace/gap").asBoolean(), big.toString());
        assertEquals(404, byPath.get("/nope").at("/http/response/status_code").asInt());
        assertEquals(6, byPath.get("/index.html").at("/http/response/body/size").asLong());
        assertEquals(6, byPath.get("/index.html?small-table").at("/http/response/body/size").asLong());
        int port = byPath.get("/big").at("/client/port").asInt();
        assertEquals(port, byPath.get("/nope").at("/client/port").asInt(), "one connection");
        for (JsonNode r : byPath.values()) {
            assertEquals(0, r.at("/httptrace/http2/unknown_fields").asInt(), r.toString());
            assertFalse(r.at("/httptrace/http2/joined_mid_stream").asBoolean());
            assertEquals("complete", r.at("/httptrace/http2/end").asText());
            assertTrue(r.at("/user_agent/original").asText().startsWith("nghttp2/"), r.toString());
        }

        // tshark, told the port is HTTP/2, on the tracer's own capture: the same streams, paths and statuses.
        assertEquals(tshark(capture, nghttpd), streams(live));
        // And the capture read back gives the same records.
        assertEquals(withoutInterface(live), withoutInterface(Tcpdump.readCapture(capture)));
    }

    @Test
    void h2loadsStreamsAreEachReportedExactlyOnce() throws Exception {
        try (TracerProcess tracer = TracerProcess.start("-i lo -p " + nghttpd, "")) {
            tracer.awaitTracing();
            String out = run("h2load", "-n", "300", "-c", "3", "-m", "10", url(nghttpd, "/index.html"));
            Matcher m = Pattern.compile("requests: 300 total, \\d+ started, \\d+ done, (\\d+) succeeded").matcher(out);
            assertTrue(m.find(), out);
            int succeeded = Integer.parseInt(m.group(1));
            assertEquals(300, succeeded, out);
            Tcpdump.awaitLines(tracer, succeeded, 30);
            Tcpdump.interrupt(tracer);
            assertEquals(0, tracer.waitFor(30));
            Set<String> streams = new HashSet<>();
            Set<Integer> connections = new HashSet<>();
            for (String line : tracer.stdout()) {
                JsonNode r = JSON.readTree(line);
                assertEquals(200, r.at("/http/response/status_code").asInt(), line);
                assertTrue(streams.add(r.at("/client/port").asInt() + "/" + r.at("/httptrace/http2/stream_id").asInt()),
                        "reported twice: " + line);
                connections.add(r.at("/client/port").asInt());
            }
            assertEquals(succeeded, tracer.stdout().size());
            assertEquals(3, connections.size());
        }
    }

    @Test
    void curlWithPriorKnowledgeAndByUpgradeAndNginxsCleartextHttp2() throws Exception {
        try (TracerProcess tracer = TracerProcess.start("-i lo -p " + nghttpd + "," + nginx + "," + pyH2, "")) {
            tracer.awaitTracing();
            run("curl", "-sS", "-o", "/dev/null", "--http2-prior-knowledge", url(nghttpd, "/index.html?curl"));
            run("curl", "-sS", "-o", "/dev/null", "--http2-prior-knowledge", "-H", "Authorization: Bearer s3cret",
                    url(nginx, "/index.html?nginx"));
            // curl --http2 on http:// asks for an Upgrade to h2c (which python-h2 grants; nghttpd and
            // nginx do not): the 101, then stream 1 in HTTP/2.
            run("curl", "-sS", "-o", "/dev/null", "--http2", url(pyH2, "/index.html?upgrade"));
            Tcpdump.awaitLines(tracer, 4, 20);
            Tcpdump.interrupt(tracer);
            assertEquals(0, tracer.waitFor(30));
            List<String> upgrade = tracer.stdout().stream().filter(l -> l.contains("?upgrade")).toList();
            assertEquals(2, upgrade.size(), tracer.stdout().toString());
            JsonNode switched = JSON.readTree(upgrade.stream().filter(l -> l.contains("\"version\":\"1.1\"")).findFirst().orElseThrow());
            assertEquals(101, switched.at("/http/response/status_code").asInt());
            assertTrue(switched.at("/httptrace/upgraded").asBoolean());
            JsonNode streamOne = JSON.readTree(upgrade.stream().filter(l -> l.contains("\"version\":\"2\"")).findFirst().orElseThrow());
            assertEquals(1, streamOne.at("/httptrace/http2/stream_id").asInt(), streamOne.toString());
            assertEquals(200, streamOne.at("/http/response/status_code").asInt());
            assertEquals(2, streamOne.at("/http/response/body/size").asLong());
            Map<String, JsonNode> byPath = byTarget(tracer.stdout().stream().filter(l -> !l.contains("?upgrade")).toList());
            JsonNode viaNginx = byPath.get("/index.html?nginx");
            assertNotNull(viaNginx, tracer.stdout().toString());
            assertEquals(200, viaNginx.at("/http/response/status_code").asInt());
            assertEquals(nginx, viaNginx.at("/server/port").asInt());
            assertEquals("127.0.0.1:" + nginx, viaNginx.at("/http/request/headers/host").asText(), ":authority is the host");
            assertTrue(viaNginx.at("/user_agent/original").asText().startsWith("curl/"));
            assertFalse(String.join("\n", tracer.stdout()).contains("s3cret"), "redacted like HTTP/1");
            assertEquals("/index.html", byPath.get("/index.html?curl").at("/url/path").asText());
            assertEquals("curl", byPath.get("/index.html?curl").at("/url/query").asText());
        }
    }

    @Test
    void framesAPeerControlsTrailersPaddingResetGoAwayAndContinuation() throws Exception {
        Path ready = dir.resolve("frames.ready");
        try (TracerProcess tracer = TracerProcess.start("-i lo -p " + pyH2 + " --stats json --headers all --ready-file "
                + ready, "")) {
            tracer.awaitReadyFile(ready); // --stats json: no "tracing on" line
            List<String> client = run(PYTHON, resource("h2_client.py"), Integer.toString(pyH2),
                    "/trailers", "/padded", "/large", "/reset", "/goaway").lines().toList();
            assertEquals(5, client.size(), client.toString());
            Tcpdump.awaitLines(tracer, 5, 20);
            Tcpdump.interrupt(tracer);
            assertEquals(0, tracer.waitFor(30));
            Map<String, JsonNode> byPath = byTarget(tracer.stdout());
            JsonNode trailers = byPath.get("/trailers");
            assertEquals("abc123", trailers.at("/http/response/trailers/x-checksum").asText(), trailers.toString());
            assertEquals(4, trailers.at("/http/response/body/size").asLong());
            assertEquals(10, byPath.get("/padded").at("/http/response/body/size").asLong(), "padding is not body");
            JsonNode large = byPath.get("/large");
            assertEquals(40000, large.at("/http/response/headers/x-large").asText().length(),
                    "a 40 KiB header block over HEADERS and CONTINUATION, captured whole: " + large);
            JsonNode reset = byPath.get("/reset");
            assertEquals("rst_stream", reset.at("/httptrace/http2/end").asText(), reset.toString());
            assertEquals("CANCEL", reset.at("/httptrace/http2/rst_stream/error").asText());
            assertEquals("server", reset.at("/httptrace/http2/rst_stream/by").asText());
            assertEquals("rst_stream", reset.at("/httptrace/unanswered").asText());
            assertEquals(503, byPath.get("/goaway").at("/http/response/status_code").asInt());
            JsonNode stats = JSON.readTree(tracer.stderr().getLast());
            // The server's GOAWAY, and the client's own as it closes.
            assertEquals(2, stats.at("/http2/goaways").asLong(), stats.toString());
            assertEquals(1, stats.at("/http2/rst_streams").asLong(), stats.toString());
            assertEquals(5, stats.at("/http2/streams").asLong(), stats.toString());
            assertEquals(0, stats.at("/http2/errors").asLong(), stats.toString());
        }
    }

    @Test
    void grpcCallsCarryServiceMethodStatusAndMessageCounts() throws Exception {
        try (TracerProcess tracer = TracerProcess.start("-i lo -p " + grpc, "")) {
            tracer.awaitTracing();
            String seen = run(PYTHON, resource("grpc_peer.py"), "client", Integer.toString(grpc));
            assertEquals(List.of("Say b'hi'", "Say NOT_FOUND no such thing", "Count 3"), seen.lines().toList());
            Tcpdump.awaitLines(tracer, 3, 20);
            Tcpdump.interrupt(tracer);
            assertEquals(0, tracer.waitFor(30));
            List<JsonNode> calls = new ArrayList<>();
            for (String line : tracer.stdout()) {
                SchemaValidator.assertValid(line);
                calls.add(JSON.readTree(line));
            }
            calls.sort(Comparator.comparingInt(r -> r.at("/httptrace/http2/stream_id").asInt()));
            assertEquals(3, calls.size(), tracer.stdout().toString());
            JsonNode ok = calls.get(0), failed = calls.get(1), streaming = calls.get(2);
            assertEquals("grpc", ok.at("/rpc/system").asText(), ok.toString());
            assertEquals("demo.Echo", ok.at("/rpc/service").asText());
            assertEquals("Say", ok.at("/rpc/method").asText());
            assertEquals(0, ok.at("/rpc/grpc/status_code").asInt(), ok.toString());
            assertEquals(1, ok.at("/rpc/grpc/request_messages").asInt());
            assertEquals(1, ok.at("/rpc/grpc/response_messages").asInt());
            assertEquals(5, failed.at("/rpc/grpc/status_code").asInt(), "NOT_FOUND: " + failed);
            assertEquals("no such thing", failed.at("/rpc/grpc/message").asText().replace("%20", " "));
            assertEquals("Count", streaming.at("/rpc/method").asText());
            assertEquals(3, streaming.at("/rpc/grpc/response_messages").asInt(), streaming.toString());
            assertTrue(streaming.at("/httptrace/http2/end_duration").asLong() >= streaming.at("/event/duration").asLong(),
                    "the call lasts to its last END_STREAM, at least as long as to its first HEADERS");
        }
    }

    /**
     * A client that keeps its connection, joined after its first request: later requests are
     * reported with what survives HPACK, the rest marked unknown, and nothing contradicts what
     * the client itself saw.
     */
    @Test
    void aConnectionJoinedMidWayReportsWhatCanBeKnownAndMarksTheRest() throws Exception {
        Process client = new ProcessBuilder(PYTHON, resource("h2_client.py"), Integer.toString(nghttpd),
                "/index.html?before", "-", "/index.html?after1", "/nope", "/index.html?after2")
                .redirectErrorStream(true).start();
        try (var seen = client.inputReader(); OutputStream in = client.getOutputStream()) {
            assertEquals("1 /index.html?before 200 6", seen.readLine());
            try (TracerProcess tracer = TracerProcess.start("-i lo -p " + nghttpd, "")) {
                tracer.awaitTracing();
                in.write('\n');
                in.flush();
                List<String> after = List.of(seen.readLine(), seen.readLine(), seen.readLine());
                assertEquals(List.of("3 /index.html?after1 200 6", "5 /nope 404 148", "7 /index.html?after2 200 6"),
                        after.stream().map(l -> l.replaceAll(" 404 \\d+$", " 404 148")).toList());
                Tcpdump.awaitLines(tracer, 3, 20);
                Tcpdump.interrupt(tracer);
                assertEquals(0, tracer.waitFor(30));
                List<String> lines = tracer.stdout();
                assertEquals(3, lines.size(), lines.toString());
                Map<Integer, String> truth = Map.of(3, "/index.html?after1 200", 5, "/nope 404", 7, "/index.html?after2 200");
                int unknown = 0;
                for (String line : lines) {
                    SchemaValidator.assertValid(line);
                    JsonNode r = JSON.readTree(line);
                    String[] t = truth.get(r.at("/httptrace/http2/stream_id").asInt()).split(" ");
                    assertTrue(r.at("/httptrace/http2/joined_mid_stream").asBoolean(), line);
                    assertEquals(Integer.parseInt(t[1]), r.at("/http/response/status_code").asInt(), line);
                    if (!r.at("/url/original").isMissingNode()) assertEquals(t[0], r.at("/url/original").asText(), line);
                    if (!r.at("/http/request/headers/x-tenant").isMissingNode()) {
                        assertEquals("blue", r.at("/http/request/headers/x-tenant").asText(), line);
                    }
                    unknown += r.at("/httptrace/http2/unknown_fields").asInt();
                }
                assertTrue(unknown > 0, "python-hpack refers to fields indexed before the join: " + lines);
            }
        } finally {
            client.destroy();
        }
    }

    // ---- helpers ----

    private static Map<String, JsonNode> byTarget(List<String> lines) throws IOException {
        Map<String, JsonNode> byPath = new HashMap<>();
        for (String line : lines) {
            SchemaValidator.assertValid(line);
            JsonNode r = JSON.readTree(line);
            assertTrue(byPath.put(r.at("/url/original").asText(), r) == null, "reported twice: " + line);
        }
        return byPath;
    }

    /** client port/stream id -> "path status", from the records. */
    private static Map<String, String> streams(List<String> lines) throws IOException {
        Map<String, String> m = new TreeMap<>();
        for (String line : lines) {
            JsonNode r = JSON.readTree(line);
            m.put(r.at("/client/port").asInt() + "/" + r.at("/httptrace/http2/stream_id").asInt(),
                    r.at("/url/original").asText() + " " + r.at("/http/response/status_code").asInt());
        }
        return m;
    }

    /** The same, from tshark's dissection of the capture (HEADERS frames: :path from the client, :status from the server). */
    private static Map<String, String> tshark(Path capture, int serverPort) throws Exception {
        String out = run("tshark", "-r", capture.toString(), "-d", "tcp.port==" + serverPort + ",http2",
                "-Y", "http2.type==1", "-T", "fields", "-E", "separator=|", "-e", "tcp.srcport", "-e", "tcp.dstport",
                "-e", "http2.streamid", "-e", "http2.type", "-e", "http2.headers.path", "-e", "http2.headers.status");
        Map<String, String> paths = new HashMap<>(), statuses = new HashMap<>();
        for (String line : out.lines().toList()) {
            String[] f = line.split("\\|", -1);
            if (f.length < 6) continue;
            boolean fromClient = Integer.parseInt(f[1]) == serverPort;
            int clientPort = Integer.parseInt(fromClient ? f[0] : f[1]);
            String[] ids = f[2].split(","), types = f[3].split(","), values = (fromClient ? f[4] : f[5]).split(",");
            int v = 0;
            for (int i = 0; i < ids.length && i < types.length; i++) {
                if (!types[i].equals("1") || v >= values.length) continue;
                (fromClient ? paths : statuses).put(clientPort + "/" + ids[i], values[v++]);
            }
        }
        Map<String, String> m = new TreeMap<>();
        for (var e : paths.entrySet()) m.put(e.getKey(), e.getValue() + " " + statuses.get(e.getKey()));
        return m;
    }

    private static List<String> withoutInterface(List<String> lines) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            var r = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(line);
            ((com.fasterxml.jackson.databind.node.ObjectNode) r.get("httptrace")).remove("interface");
            out.add(r.toString());
        }
        out.sort(null);
        return out;
    }

    private static String url(int port, String path) {
        return "http://127.0.0.1:" + port + path;
    }

    private static String resource(String name) throws IOException {
        Path p = dir.resolve(name);
        if (!Files.exists(p)) {
            try (var in = Http2IT.class.getResourceAsStream(name)) {
                assertNotNull(in, name);
                Files.copy(in, p);
            }
        }
        return p.toString();
    }

    private static void writeNginxConf(int port, Path www) {
        try {
            Files.writeString(dir.resolve("nginx.conf"), """
                    user root;
                    worker_processes 1;
                    daemon off;
                    pid %1$s/nginx.pid;
                    error_log %1$s/error.log;
                    events { worker_connections 64; }
                    http {
                        access_log off;
                        client_body_temp_path %1$s/body; proxy_temp_path %1$s/proxy; fastcgi_temp_path %1$s/fastcgi;
                        uwsgi_temp_path %1$s/uwsgi; scgi_temp_path %1$s/scgi;
                        server { listen 127.0.0.1:%2$d http2; root %3$s; }
                    }
                    """.formatted(dir, port, www));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Starts a server on a port chosen here, again on another port if it could not listen (the port was taken meanwhile). */
    private static int startOnFreePort(java.util.function.IntFunction<List<String>> command) throws Exception {
        for (int attempt = 0; attempt < 5; attempt++) {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Process p = new ProcessBuilder(command.apply(port)).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("server-" + port + ".out").toFile()).start();
            if (awaitPort(port, p)) {
                servers.add(p);
                return port;
            }
            p.destroy();
        }
        fail("no server could listen: " + command.apply(0));
        return -1;
    }

    /** Starts a server that listens on a port of its choosing and prints it first. */
    private static int startReportingPort(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectError(dir.resolve("server-" + command[1].hashCode() + ".err").toFile()).start();
        servers.add(p);
        String first = p.inputReader().readLine();
        assertNotNull(first, "server printed no port: " + List.of(command));
        int port = Integer.parseInt(first.strip());
        assertTrue(awaitPort(port, p), "server not listening on " + port);
        return port;
    }

    private static boolean awaitPort(int port, Process p) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline && p.isAlive()) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        return false;
    }

    /** Runs a command to its end (at most 60 s, else it is ended) and returns its stdout; fails unless it exits 0. */
    private static String run(String... command) throws Exception {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT)
                .redirectOutput(out.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("still running after 60 s: " + List.of(command));
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "exit code of " + List.of(command) + ": " + text);
        return text;
    }
}
