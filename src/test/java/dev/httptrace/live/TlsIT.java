package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.httptrace.output.SchemaValidator;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * --tls on real programs on loopback: nginx (Debian's, linked to libssl3) with a certificate
 * made here, curl, Python's urllib and a Python TLS server (which use only SSL_read_ex and
 * SSL_write_ex), wget (GnuTLS: named as not supported), HTTP/2, and the probes gone after
 * SIGINT and SIGTERM.
 */
class TlsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path dir;
    private static Process nginx;
    private static int https;
    private static int h2;

    @BeforeAll
    static void startNginx() throws Exception {
        Live.requireRoot();
        dir = Files.createTempDirectory("httptrace-tls");
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                "-keyout", dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString());
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("hello"), "hello\n");
        Files.write(www.resolve("big"), new byte[1 << 20]);
        https = freePort();
        h2 = freePort();
        Files.writeString(dir.resolve("nginx.conf"), """
                user root;
                worker_processes 1;
                daemon off;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log;
                events { worker_connections 256; }
                http {
                    access_log off;
                    client_body_temp_path %1$s/body;
                    client_body_buffer_size 1m;
                    client_max_body_size 2m;
                    proxy_temp_path %1$s/proxy; fastcgi_temp_path %1$s/fastcgi;
                    uwsgi_temp_path %1$s/uwsgi; scgi_temp_path %1$s/scgi;
                    ssl_certificate %1$s/cert.pem;
                    ssl_certificate_key %1$s/key.pem;
                    server {
                        listen 127.0.0.1:%2$d ssl;
                        listen 127.0.0.1:%3$d ssl http2;
                        root %1$s/www;
                        location = /upload { return 200 "uploaded\\n"; }
                    }
                }
                """.formatted(dir, https, h2));
        nginx = new ProcessBuilder("nginx", "-c", dir.resolve("nginx.conf").toString(), "-p", dir.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("nginx.out").toFile()).start();
        awaitPort(https);
    }

    @AfterAll
    static void stopNginx() throws Exception {
        if (nginx != null) {
            nginx.descendants().forEach(ProcessHandle::destroy);
            nginx.destroy();
            nginx.waitFor(10, TimeUnit.SECONDS);
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void httpsExchangesAreReportedLikePlainOnesWithBothProcessesAndNothingIsLeftAttachedAfterSigint()
            throws Exception {
        int pyPort = freePort();
        Process pyServer = python(pythonServer(pyPort));
        awaitPort(pyPort); // before the tracer: this probe is a TLS connection without HTTP, a non-HTTP flow
        try (TracerProcess tracer = TracerProcess.start("--tls -i lo --headers default,authorization -p " + https + "," + h2 + "," + pyPort, "")) {
            tracer.awaitTracing();
            // One request, three on one keep-alive connection, a 1 MiB download, a 256 KiB upload, a secret.
            Curl one = curl("-H", "Authorization: Bearer s3cret", url(https, "/hello"));
            Curl keepAlive = curl(url(https, "/hello?a=1"), url(https, "/hello?a=2"), url(https, "/hello?a=3"));
            Curl download = curl(url(https, "/big"));
            Path upload = dir.resolve("upload");
            Files.write(upload, new byte[256 << 10]);
            Curl post = curl("--data-binary", "@" + upload, url(https, "/upload"));
            // Concurrent clients: every record must carry the port and pid the client itself reports.
            List<Process> started = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                started.add(start(url(https, "/hello?c=" + i)));
            }
            List<Curl> concurrent = new ArrayList<>();
            for (Process p : started) concurrent.add(finish(p));
            // Python's urllib against a Python TLS server: the _ex functions at both ends.
            Process urllib = python("""
                    import ssl, urllib.request
                    c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
                    print(len(urllib.request.urlopen("https://127.0.0.1:%d/py", context=c).read()))
                    """.formatted(pyPort));
            assertEquals(0, urllib.waitFor(), "urllib failed");
            // HTTP/2 (ALPN h2): said once, never reported as HTTP/1.
            Curl http2 = curl("--http2", url(h2, "/hello"));
            Thread.sleep(1500);
            new ProcessBuilder("kill", "-INT", Long.toString(tracer.java().pid())).start().waitFor();
            assertEquals(0, tracer.waitFor(30));

            Map<String, JsonNode> byTarget = new HashMap<>();
            for (String line : tracer.stdout()) {
                SchemaValidator.assertValid(line);
                JsonNode r = JSON.readTree(line);
                assertTrue(byTarget.put(r.at("/url/original").asText(), r) == null, "reported twice: " + line);
            }
            JsonNode hello = byTarget.get("/hello");
            assertEquals("https", hello.at("/url/scheme").asText());
            assertEquals(200, hello.at("/http/response/status_code").asInt());
            assertEquals("[REDACTED]", hello.at("/http/request/headers/authorization").asText(), hello.toString());
            assertFalse(String.join("\n", tracer.stdout()).contains("s3cret"));
            assertEquals(one.pid, hello.at("/client/process/pid").asLong());
            assertEquals(one.localPort, hello.at("/client/port").asInt());
            assertEquals("curl", hello.at("/client/process/name").asText());
            assertEquals("nginx", hello.at("/server/process/name").asText());
            assertEquals(https, hello.at("/server/port").asInt());
            assertEquals("socket", hello.at("/httptrace/tls/attribution").asText());
            for (int i = 1; i <= 3; i++) {
                JsonNode r = byTarget.get("/hello?a=" + i);
                assertEquals(keepAlive.pid, r.at("/client/process/pid").asLong(), r.toString());
                assertEquals(keepAlive.localPort, r.at("/client/port").asInt(), "one keep-alive connection");
            }
            JsonNode big = byTarget.get("/big");
            assertEquals(1 << 20, big.at("/http/response/body/size").asLong(), big.toString());
            assertFalse(big.at("/httptrace/gap").asBoolean(), big + "\n" + String.join("\n", tracer.stderr()));
            assertEquals(download.pid, big.at("/client/process/pid").asLong());
            JsonNode up = byTarget.get("/upload");
            assertEquals(256 << 10, up.at("/http/request/body/size").asLong(), up.toString());
            assertEquals(post.pid, up.at("/client/process/pid").asLong());
            for (int i = 0; i < 8; i++) {
                JsonNode r = byTarget.get("/hello?c=" + i);
                Curl c = concurrent.get(i);
                assertEquals(c.pid, r.at("/client/process/pid").asLong(), r.toString());
                assertEquals(c.localPort, r.at("/client/port").asInt(), r.toString());
            }
            JsonNode py = byTarget.get("/py");
            assertEquals(urllib.pid(), py.at("/client/process/pid").asLong(), py.toString());
            assertEquals(pyServer.pid(), py.at("/server/process/pid").asLong(), py.toString());
            assertEquals("Python-urllib/3.11", py.at("/user_agent/original").asText().replaceAll("3\\.\\d+$", "3.11"));
            assertEquals(1 + 3 + 1 + 1 + 8 + 1, byTarget.size(), "nothing else: " + byTarget.keySet());

            String stderr = String.join("\n", tracer.stderr());
            assertTrue(stderr.contains("httptrace: tls: attached /usr/lib/x86_64-linux-gnu/libssl.so.3 (OpenSSL 3."), stderr);
            assertTrue(stderr.contains("SSL_read_ex SSL_write_ex"), stderr);
            assertEquals(1, stderr.lines().filter(l -> l.contains("HTTP/2") && l.contains(":" + h2)).count(), stderr);
            assertTrue(stderr.contains(" 0 non-HTTP flows"), "the ciphertext is not noise: " + stderr);
            assertEquals(0, http2.exit);
        } finally {
            pyServer.destroy();
        }
        assertNoProbesLeft();
    }

    @Test
    void aGnuTlsClientIsNamedAsNotSupportedAndSigtermDetachesEverything() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
            // wget (GnuTLS) waits on a server that never answers, so it runs when the tracer starts.
            Process wget = new ProcessBuilder("wget", "-q", "-O", "/dev/null", "--timeout=60", "--tries=1",
                    "https://127.0.0.1:" + silent.getLocalPort() + "/").redirectErrorStream(true).start();
            try (Socket accepted = silent.accept();
                 TracerProcess tracer = TracerProcess.start("--tls -i lo -p " + https, "")) {
                tracer.awaitTracing();
                Curl plainPort = curl(url(https, "/hello"));
                Thread.sleep(1000);
                ProcessHandle java = tracer.java();
                new ProcessBuilder("kill", "-TERM", Long.toString(java.pid())).start().waitFor();
                assertEquals(0, tracer.waitFor(30));
                String stderr = String.join("\n", tracer.stderr());
                assertTrue(stderr.lines().anyMatch(l -> l.startsWith("httptrace: tls: skipped ")
                        && l.contains("libgnutls.so") && l.contains("wget[" + wget.pid() + "]")
                        && l.endsWith("GnuTLS is not supported")), stderr);
                assertEquals(1, tracer.stdout().size(), String.join("\n", tracer.stdout()));
                assertEquals(plainPort.pid, JSON.readTree(tracer.stdout().getFirst()).at("/client/process/pid").asLong());
            } finally {
                wget.destroy();
            }
        }
        assertNoProbesLeft();
    }

    /** No program of ours is loaded and no uprobe link remains (bpftool), after the tracer exits. */
    private static void assertNoProbesLeft() throws Exception {
        String progs = output("bpftool", "prog", "show");
        for (String name : List.of("ssl_ret", "ssl_read_enter", "ssl_write_ex_ent", "sock_send", "sock_recv")) {
            assertFalse(progs.contains("name " + name), name + " still loaded:\n" + progs);
        }
        String perf = output("bpftool", "perf", "show");
        assertFalse(perf.contains("libssl"), "a uprobe on libssl is still attached:\n" + perf);
        Path uprobeEvents = Path.of("/sys/kernel/tracing/uprobe_events");
        if (Files.isReadable(uprobeEvents)) {
            assertFalse(Files.readString(uprobeEvents).contains("libssl"), "legacy uprobe events left in tracefs");
        }
    }

    private static String url(int port, String path) {
        return "https://127.0.0.1:" + port + path;
    }

    /** A curl run: its pid, the local port it reports (of its last transfer), its exit code. */
    private record Curl(long pid, int localPort, int exit) {}

    private static Curl curl(String... args) throws Exception {
        return finish(start(args));
    }

    private static Process start(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("curl", "-sk", "-w", "%{local_port}\\n"));
        for (String a : args) {
            if (a.startsWith("https://")) command.addAll(List.of("-o", "/dev/null"));
            command.add(a);
        }
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static Curl finish(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "curl still running");
        String[] ports = out.split("\\s+");
        return new Curl(p.pid(), Integer.parseInt(ports[ports.length - 1]), p.exitValue());
    }

    private static String pythonServer(int port) {
        return """
                import http.server, ssl
                class H(http.server.BaseHTTPRequestHandler):
                    protocol_version = "HTTP/1.1"
                    def do_GET(self):
                        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
                        self.wfile.write(b"ok")
                    def log_message(self, *a): pass
                s = http.server.ThreadingHTTPServer(("127.0.0.1", %d), H)
                c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain("%s", "%s")
                s.socket = c.wrap_socket(s.socket, server_side=True)
                s.serve_forever()
                """.formatted(port, dir.resolve("cert.pem"), dir.resolve("key.pem"));
    }

    private static Process python(String script) throws IOException {
        return new ProcessBuilder("python3", "-c", script).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void awaitPort(int port) throws Exception {
        for (int i = 0; i < 100; i++) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("nothing listens on " + port + "; nginx said: "
                + (Files.exists(dir.resolve("nginx.out")) ? Files.readString(dir.resolve("nginx.out")) : ""));
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertEquals(0, p.waitFor(), String.join(" ", command));
    }

    private static String output(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}
