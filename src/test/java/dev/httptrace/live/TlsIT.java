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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * --tls on real programs on loopback: nginx (Debian's, linked to libssl3) with a certificate
 * made here, curl, Python's urllib and a Python TLS server (which use only SSL_read_ex and
 * SSL_write_ex), wget (GnuTLS: named as not supported), HTTP/2 (h2 by ALPN), and the probes gone after
 * SIGINT and SIGTERM; IPv6; a program doing its own I/O through memory BIOs (the socket
 * unknown, said so); --stats json; plain HTTP traced with --tls on exactly as without it;
 * an executable linked statically to OpenSSL that exports its API (src/test/c/tls_get.c);
 * a client that reuses its SSL object for each new connection (wrk).
 */
class TlsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path dir;
    private static Process nginx;
    private static int https;
    private static int h2;
    private static int https6;
    /** A server that closes every connection after three requests. */
    private static int shortLived;

    @BeforeAll
    static void startNginx() throws Exception {
        Live.requireRoot();
        dir = Files.createTempDirectory("httptrace-tls");
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                "-keyout", dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString());
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("hello"), "hello\n");
        Files.write(www.resolve("big"), new byte[1 << 20]);
        // nginx cannot be given port 0: its ports are probed free here and bound by nginx a moment
        // later, so another program may take one in between; then nginx says so and exits, and
        // it is started again on other ports.
        for (int attempt = 1; ; attempt++) {
            // Probed while all four are held open, so they are four different ports.
            try (ServerSocket a = probe("127.0.0.1"); ServerSocket b = probe("127.0.0.1");
                 ServerSocket c = probe("::1"); ServerSocket d = probe("127.0.0.1")) {
                https = a.getLocalPort();
                h2 = b.getLocalPort();
                https6 = c.getLocalPort();
                shortLived = d.getLocalPort();
            }
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
                            listen [::1]:%4$d ssl;
                            root %1$s/www;
                            location = /upload { return 200 "uploaded\\n"; }
                        }
                        server {
                            listen 127.0.0.1:%5$d ssl;
                            keepalive_requests 3;
                            root %1$s/www;
                        }
                    }
                    """.formatted(dir, https, h2, https6, shortLived));
            Files.deleteIfExists(dir.resolve("error.log"));
            nginx = new ProcessBuilder("nginx", "-c", dir.resolve("nginx.conf").toString(), "-p", dir.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("nginx.out").toFile()).start();
            if (awaitPortOrExit(nginx, https)) {
                return;
            }
            String said = read(dir.resolve("nginx.out")) + read(dir.resolve("error.log"));
            if (!said.contains("Address already in use") || attempt == 5) {
                throw new AssertionError("nginx did not start (attempt " + attempt + "): " + said);
            }
        }
    }

    private static String read(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file) : "";
    }

    @AfterAll
    static void stopNginx() throws Exception {
        Live.stop(nginx);
        Live.deleteTree(dir);
    }

    @Test
    void httpsExchangesAreReportedLikePlainOnesWithBothProcessesAndNothingIsLeftAttachedAfterSigint()
            throws Exception {
        // The server binds port 0 and prints the port it got once it listens.
        Process pyServer = new ProcessBuilder("python3", "-c", pythonServer()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        int pyPort = Integer.parseInt(String.valueOf(pyServer.inputReader().readLine()).strip());
        Set<String> probes;
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
            // HTTP/2 (ALPN h2): decoded from the plaintext like h2c.
            Curl http2 = curl("--http2", url(h2, "/hello?h2"));
            awaitRecords(tracer, 1 + 3 + 1 + 1 + 8 + 1 + 1, ANY);
            probes = probesOf(tracer);
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
            // curl has exited long before its records are read: its executable comes from the kernel.
            assertEquals(realPath("curl"), hello.at("/client/process/executable").asText(), hello.toString());
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
            JsonNode h2Record = byTarget.get("/hello?h2");
            assertEquals("2", h2Record.at("/network/protocol/version").asText(), h2Record.toString());
            assertEquals(200, h2Record.at("/http/response/status_code").asInt(), h2Record.toString());
            assertEquals("https", h2Record.at("/url/scheme").asText());
            assertEquals(http2.pid, h2Record.at("/client/process/pid").asLong(), h2Record.toString());
            assertEquals(1, h2Record.at("/httptrace/http2/stream_id").asInt(), h2Record.toString());
            assertEquals(1 + 3 + 1 + 1 + 8 + 1 + 1, byTarget.size(), "nothing else: " + byTarget.keySet());

            String stderr = String.join("\n", tracer.stderr());
            assertTrue(stderr.contains("httptrace: tls: attached /usr/lib/x86_64-linux-gnu/libssl.so.3 (OpenSSL 3."), stderr);
            assertTrue(stderr.contains("SSL_read_ex SSL_write_ex"), stderr);
            assertTrue(stderr.contains(" 0 non-HTTP flows"), "the ciphertext is not noise: " + stderr);
            assertEquals(0, http2.exit);
        } finally {
            pyServer.destroy();
        }
        assertNoProbesLeft(probes);
    }

    @Test
    void aGnuTlsClientIsNamedAsNotSupportedAndSigtermDetachesEverything() throws Exception {
        Set<String> probes;
        try (ServerSocket silent = new ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
            // wget (GnuTLS) waits on a server that never answers, so it runs when the tracer starts.
            Process wget = new ProcessBuilder("wget", "-q", "-O", "/dev/null", "--timeout=60", "--tries=1",
                    "https://127.0.0.1:" + silent.getLocalPort() + "/").redirectErrorStream(true).start();
            try (Socket accepted = silent.accept();
                 TracerProcess tracer = TracerProcess.start("--tls -i lo -p " + https, "")) {
                tracer.awaitTracing();
                Curl plainPort = curl(url(https, "/hello"));
                awaitRecords(tracer, 1, ANY);
                probes = probesOf(tracer);
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
        assertNoProbesLeft(probes);
    }

    @Test
    void anExecutableThatExportsTheOpenSslApiItselfIsFoundAndProbed() throws Exception {
        // Linked statically to OpenSSL, its API exported (as node does): no libssl.so is mapped.
        Path client = dir.resolve("tls_get");
        run("clang", "-O1", "-rdynamic", "-o", client.toString(), Path.of("src/test/c/tls_get.c").toAbsolutePath().toString(),
                "/usr/lib/x86_64-linux-gnu/libssl.a", "/usr/lib/x86_64-linux-gnu/libcrypto.a", "-lpthread", "-ldl");
        Process p = new ProcessBuilder(client.toString(), Integer.toString(https), "/hello?static")
                .redirectErrorStream(true).start();
        try (TracerProcess tracer = TracerProcess.start("--tls -i lo -p " + https, "")) {
            tracer.awaitTracing(); // the client runs, waiting for its go: the start-up scan finds it
            var toClient = p.getOutputStream();
            var fromClient = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
            toClient.write("go\n".getBytes(StandardCharsets.US_ASCII));
            toClient.flush();
            String[] said = String.valueOf(fromClient.readLine()).split(" ");
            awaitRecords(tracer, 1, ANY);
            new ProcessBuilder("kill", "-TERM", Long.toString(tracer.java().pid())).start().waitFor();
            assertEquals(0, tracer.waitFor(30));
            toClient.write("exit\n".getBytes(StandardCharsets.US_ASCII));
            toClient.flush();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "the client failed: " + String.join(" ", said));

            String stderr = String.join("\n", tracer.stderr());
            // No version string is linked into this client: the report says what it found, the API.
            assertTrue(stderr.lines().anyMatch(l -> l.startsWith("httptrace: tls: attached " + client + " (OpenSSL API; SSL_read SSL_write")
                    && l.contains("tls_get[" + p.pid() + "]")), stderr);
            assertEquals(1, tracer.stdout().size(), String.join("\n", tracer.stdout()));
            JsonNode r = JSON.readTree(tracer.stdout().getFirst());
            assertEquals("/hello?static", r.at("/url/original").asText());
            assertEquals(200, r.at("/http/response/status_code").asInt());
            assertEquals(p.pid(), r.at("/client/process/pid").asLong(), r.toString());
            assertEquals(client.toString(), r.at("/client/process/executable").asText());
            assertEquals(Integer.parseInt(said[0]), r.at("/client/port").asInt(), "the port the client reports");
            assertEquals("nginx", r.at("/server/process/name").asText());
        } finally {
            p.destroy();
        }
    }

    @Test
    void ipv6ExchangesCarryTheSocketsAddressesAndBothProcessesAndStatsJsonHasTheTlsCounters() throws Exception {
        Path ready = dir.resolve("ready-v6");
        try (TracerProcess tracer = TracerProcess.start("--tls -i lo --stats json --ready-file " + ready + " -p "
                + https6 + "," + h2, "")) {
            tracer.awaitReadyFile(ready); // --stats json: no "tracing on" line
            Curl v6 = curl("https://[::1]:" + https6 + "/hello?v6");
            Curl http2 = curl("--http2", url(h2, "/hello"));
            awaitRecords(tracer, 2, ANY);
            Tcpdump.interrupt(tracer);
            assertEquals(0, tracer.waitFor(30));
            assertEquals(0, v6.exit);
            assertEquals(0, http2.exit);

            assertEquals(2, tracer.stdout().size(), "the IPv6 one and the HTTP/2 one: " + tracer.stdout());
            String line = tracer.stdout().stream().filter(l -> l.contains("v6")).findFirst().orElseThrow();
            SchemaValidator.assertValid(line);
            JsonNode r = JSON.readTree(line);
            assertEquals("/hello?v6", r.at("/url/original").asText());
            assertEquals("https", r.at("/url/scheme").asText());
            assertEquals(200, r.at("/http/response/status_code").asInt());
            assertEquals("ipv6", r.at("/network/type").asText(), line);
            assertEquals("::1", r.at("/client/address").asText(), line);
            assertEquals("::1", r.at("/server/address").asText(), line);
            assertEquals(v6.localPort, r.at("/client/port").asInt(), "the port curl itself reports");
            assertEquals(https6, r.at("/server/port").asInt());
            assertEquals(v6.pid, r.at("/client/process/pid").asLong());
            assertEquals("curl", r.at("/client/process/name").asText());
            assertEquals("nginx", r.at("/server/process/name").asText());
            assertTrue(nginx.descendants().anyMatch(w -> w.pid() == r.at("/server/process/pid").asLong()),
                    "the server process is our nginx's worker: " + line);
            assertEquals("socket", r.at("/httptrace/tls/attribution").asText());

            // --stats json: the last line on stderr, with the tls object (the text summary's "tls:" line).
            JsonNode stats = JSON.readTree(tracer.stderr().getLast());
            JsonNode tls = stats.get("tls");
            assertTrue(tls != null && tls.isObject(), "no tls object: " + stats);
            assertEquals(List.of("libraries", "records", "lost", "streams", "socket_unknown_streams",
                    "bytes_not_copied"), names(tls));
            assertTrue(tls.get("libraries").asLong() >= 1, tls.toString());
            // Both ends of both connections (other programs on this host may add theirs: at least).
            assertTrue(tls.get("records").asLong() >= 4, tls.toString());
            assertTrue(tls.get("streams").asLong() >= 4, tls.toString());
            assertEquals(0, tls.get("lost").asLong(), tls.toString());
            assertEquals(1, stats.at("/http2/connections").asLong(), "the one HTTP/2 connection: " + stats);
            assertEquals(0, tls.get("bytes_not_copied").asLong(), tls.toString());
            assertEquals(2, stats.at("/tracer/exchanges").asLong(), stats.toString());
        }
    }

    /**
     * Python's ssl.SSLObject over ssl.MemoryBIO: OpenSSL never touches a socket, the program
     * moves the ciphertext itself (outside the SSL calls). The server is the JDK's (not
     * OpenSSL: not traced), so the client's stream is the only one. The exchange is reported,
     * and the record says the socket is unknown instead of carrying a guessed 4-tuple.
     *
     * <p>A stream whose socket is unknown passes no --port/--host/-i filter, so this tracer has
     * none; it runs in a network namespace of its own, where only lo is, carrying no packets.
     */
    @Test
    void aMemoryBioProgramsExchangeIsReportedWithTheSocketUnknown() throws Exception {
        Path p12 = dir.resolve("server.p12");
        run("openssl", "pkcs12", "-export", "-in", dir.resolve("cert.pem").toString(), "-inkey",
                dir.resolve("key.pem").toString(), "-out", p12.toString(), "-passout", "pass:test");
        char[] password = "test".toCharArray();
        java.security.KeyStore keys = java.security.KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(p12)) {
            keys.load(in, password);
        }
        var kmf = javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password);
        var ssl = javax.net.ssl.SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), null, null);
        var server = com.sun.net.httpserver.HttpsServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 8);
        server.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(ssl));
        byte[] body = "from the JDK\n".getBytes(StandardCharsets.US_ASCII);
        server.createContext("/membio", ex -> {
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        Path ready = dir.resolve("ready-membio");
        // No -i: a stream whose socket is unknown has no known interface, and -i leaves it out
        // (never more than asked); in this namespace lo is the only interface anyway.
        String command = "ip link set lo up && exec " + Live.launcher() + " --tls --stats json --ready-file " + ready;
        try (TracerProcess tracer = new TracerProcess(List.of("unshare", "--net", "bash", "-c", command))) {
            tracer.awaitReadyFile(ready); // --stats json: no "tracing on" line
            Process client = new ProcessBuilder("python3", "-c", memoryBioClient(server.getAddress().getPort()))
                    .redirectErrorStream(true).start();
            String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
            assertTrue(client.waitFor(60, TimeUnit.SECONDS) && client.exitValue() == 0, "python: " + out);
            String[] said = out.split(" ");
            int clientPort = Integer.parseInt(said[0]);
            assertEquals(body.length, Integer.parseInt(said[1]), out);
            awaitRecords(tracer, 1, r -> r.at("/client/process/pid").asLong() == client.pid());
            Tcpdump.interrupt(tracer);
            assertEquals(0, tracer.waitFor(30), String.join("\n", tracer.stderr()));

            // Untraced programs on this host may add records: only the client's are looked at.
            List<JsonNode> ours = new ArrayList<>();
            for (String line : tracer.stdout()) {
                JsonNode r = JSON.readTree(line);
                if (r.at("/client/process/pid").asLong() == client.pid() || r.at("/client/port").asInt() == clientPort) {
                    SchemaValidator.assertValid(line);
                    ours.add(r);
                }
            }
            assertEquals(1, ours.size(), "one record: " + ours + "\n" + String.join("\n", tracer.stderr()));
            JsonNode r = ours.getFirst();
            assertEquals("/membio", r.at("/url/original").asText(), r.toString());
            assertEquals("https", r.at("/url/scheme").asText());
            assertEquals(200, r.at("/http/response/status_code").asInt());
            assertEquals(body.length, r.at("/http/response/body/size").asLong());
            assertEquals(client.pid(), r.at("/client/process/pid").asLong());
            assertEquals("python3", r.at("/client/process/name").asText());
            assertEquals("unknown", r.at("/httptrace/tls/attribution").asText(), r.toString());
            for (String absent : List.of("/client/address", "/client/port", "/server/address", "/server/port",
                    "/network/type", "/server/process")) {
                assertTrue(r.at(absent).isMissingNode(), absent + " must be absent, not guessed: " + r);
            }
            JsonNode tls = JSON.readTree(tracer.stderr().getLast()).get("tls");
            assertTrue(tls.get("socket_unknown_streams").asLong() >= 1, tls.toString());
        } finally {
            server.stop(0);
        }
    }

    /**
     * --tls changes nothing for plain HTTP: the same traffic (every scripted framing case over
     * IPv4 and IPv6, curl and HttpClient) traced at the same time by two tracers, one with
     * --tls, gives the same records, field for field, none of them with TLS fields.
     */
    @Test
    void plainHttpIsTracedWithTlsOnExactlyAsWithout() throws Exception {
        try (MixedConversation conversation = new MixedConversation(false)) {
            String ports = conversation.ports().stream().map(String::valueOf).collect(Collectors.joining(","));
            try (TracerProcess plain = TracerProcess.start("-i lo -p " + ports, "");
                 TracerProcess withTls = TracerProcess.start("--tls -i lo -p " + ports, "")) {
                plain.awaitTracing();
                withTls.awaitTracing();
                conversation.runScripted();
                conversation.runOrdinary(3);
                int total = conversation.expected().size() + conversation.ordinaryCount();
                Tcpdump.awaitLines(plain, total, 30);
                Tcpdump.awaitLines(withTls, total, 30);
                Tcpdump.interrupt(plain);
                Tcpdump.interrupt(withTls);
                assertEquals(0, plain.waitFor(30), String.join("\n", plain.stderr()));
                assertEquals(0, withTls.waitFor(30), String.join("\n", withTls.stderr()));

                List<JsonNode> without = Tcpdump.parse(plain.stdout());
                List<JsonNode> with = Tcpdump.parse(withTls.stdout());
                withTls.stdout().forEach(SchemaValidator::assertValid);
                assertEquals(MixedConversation.sortedLines(conversation.expected()),
                        MixedConversation.sortedLines(with, conversation.scriptedPorts()),
                        "every scripted exchange once with --tls; stderr: " + withTls.stderr());
                assertEquals(new TreeMap<>(conversation.ordinarySent()),
                        MixedConversation.ordinaryKeys(with, conversation.ordinaryPorts()));
                assertEquals(without.size(), with.size(), "as many records as without --tls");
                Map<String, JsonNode> a = OfflineIT.byConnectionAndOrder(without);
                Map<String, JsonNode> b = OfflineIT.byConnectionAndOrder(with);
                assertEquals(a.keySet(), b.keySet(), "the same exchanges on the same connections");
                for (var e : a.entrySet()) {
                    assertEquals(OfflineIT.comparable(e.getValue()), OfflineIT.comparable(b.get(e.getKey())), e.getKey());
                }
                for (JsonNode r : with) {
                    assertTrue(r.at("/httptrace/tls").isMissingNode() && r.at("/client/process").isMissingNode()
                            && r.at("/server/process").isMissingNode(), "no TLS fields on plain HTTP: " + r);
                    assertFalse("https".equals(r.at("/url/scheme").asText()), r.toString());
                }
            }
        }
    }

    /**
     * Issue 21: an HTTPS exchange whose client is not traced (wget: GnuTLS) waits a moment for the
     * process at its other end, so a plain request made after it used to come out first. Records
     * come out in the order of their requests; each names the interface of its socket (lo); and
     * {@code -i} of another interface leaves out the TLS traffic on lo.
     */
    @Test
    void sequentialHttpsAndPlainRequestsComeOutInTheirOrderOnTheirInterfaceAndIfaceAppliesToTls() throws Exception {
        try (TestServer plain = new TestServer("127.0.0.1")) {
            String ports = " -p " + https + "," + plain.port();
            String other = java.net.NetworkInterface.networkInterfaces()
                    .filter(n -> !n.getName().equals("lo")).findFirst().orElseThrow().getName();
            try (TracerProcess tracer = TracerProcess.start("--tls -i lo" + ports, "");
                 TracerProcess elsewhere = TracerProcess.start("--tls -i " + other + ports, "")) {
                tracer.awaitTracing();
                elsewhere.awaitTracing();
                List<String> expected = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    run("wget", "-q", "-O", "/dev/null", "--no-check-certificate", url(https, "/hello?wget" + i));
                    run("curl", "-s", "-o", "/dev/null", "http://127.0.0.1:" + plain.port() + "/hello?after" + i);
                    expected.addAll(List.of("/hello?wget" + i, "/hello?after" + i));
                }
                awaitRecords(tracer, 6, ANY);
                Tcpdump.interrupt(tracer);
                Tcpdump.interrupt(elsewhere);
                assertEquals(0, tracer.waitFor(30), String.join("\n", tracer.stderr()));
                assertEquals(0, elsewhere.waitFor(30), String.join("\n", elsewhere.stderr()));
                List<JsonNode> records = tracer.stdout().stream().map(TlsIT::json).toList();
                assertEquals(expected, records.stream().map(r -> r.at("/url/original").asText()).toList(),
                        "in the order the requests were made");
                for (JsonNode r : records) {
                    assertEquals("lo", r.at("/httptrace/interface").asText(), "the socket's interface: " + r);
                }
                assertEquals(List.of(), elsewhere.stdout(), "-i " + other + ": nothing of lo, HTTPS included");
            }
        }
    }

    /** Issue 21: -w with --tls writes the packets only; it says so at the start instead of leaving -r to surprise. */
    @Test
    void writeWithTlsSaysAtTheStartThatTheFileHoldsNoTlsPlaintext() throws Exception {
        Path pcap = dir.resolve("tls.pcapng");
        try (TracerProcess tracer = TracerProcess.start("--tls -i lo -p " + https + " -w " + pcap, "")) {
            tracer.awaitTracing();
            assertTrue(tracer.stderr().stream().anyMatch(l -> l.equals("httptrace: -w " + pcap
                    + " holds the packets only, not the TLS plaintext: -r of it gives no HTTPS records")),
                    String.join("\n", tracer.stderr()));
            Tcpdump.interrupt(tracer);
            assertEquals(0, tracer.waitFor(30), String.join("\n", tracer.stderr()));
        }
    }

    /** --tls-lib naming a file that is no OpenSSL (it does not export SSL_read and SSL_write) is exit 2. */
    @Test
    void aTlsLibThatIsNotOpenSslIsExit2() throws Exception {
        String zlib = "/usr/lib/x86_64-linux-gnu/libz.so.1";
        try (TracerProcess tracer = TracerProcess.start("-i lo --tls-lib " + zlib + " -d 30s", "")) {
            assertEquals(2, tracer.waitFor(60), String.join("\n", tracer.stderr()));
            assertTrue(tracer.stderr().contains("httptrace: --tls-lib " + zlib + ": " + zlib
                    + " does not export SSL_read and SSL_write"), String.join("\n", tracer.stderr()));
            // A bad option found late gets the usage hint any other gets (issue 21).
            assertTrue(tracer.stderr().contains("Try 'httptrace --help' for usage."), String.join("\n", tracer.stderr()));
            assertEquals(List.of(), tracer.stdout());
        }
    }

    /**
     * Two copies of libssl that no process has mapped when the tracer starts: the one named
     * with --tls-lib is probed at the start (said before "tracing on"); the other is found by
     * the rescan (every 2 s) once a Python client started later loads it (LD_LIBRARY_PATH),
     * and that client's exchange is reported. Without the rescan the second copy is never
     * probed and there is no record; without --tls-lib the first is not attached at the start.
     */
    @Test
    void aTlsLibIsProbedAtTheStartAndALibraryLoadedLaterIsFoundByTheRescan() throws Exception {
        Path named = Files.createDirectories(dir.resolve("named"));
        Path later = Files.createDirectories(dir.resolve("later"));
        Path system = Path.of("/usr/lib/x86_64-linux-gnu/libssl.so.3");
        Files.copy(system, named.resolve("libssl.so.3"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(system, later.resolve("libssl.so.3"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (TracerProcess tracer = TracerProcess.start("-i lo -p " + https + " --tls-lib " + named.resolve("libssl.so.3"), "")) {
            tracer.awaitTracing();
            List<String> atStart = tracer.stderr();
            assertTrue(atStart.stream().anyMatch(l -> l.startsWith("httptrace: tls: attached " + named.resolve("libssl.so.3"))),
                    "the named copy is probed at the start: " + String.join("\n", atStart));
            assertFalse(atStart.stream().anyMatch(l -> l.contains(later.toString())), String.join("\n", atStart));

            ProcessBuilder pb = new ProcessBuilder("python3", "-c", """
                    import ssl, sys, urllib.request
                    print("loaded", flush=True)
                    sys.stdin.readline()
                    c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
                    print(len(urllib.request.urlopen("https://127.0.0.1:%d/hello?later", context=c).read()), flush=True)
                    """.formatted(https)).redirectError(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("LD_LIBRARY_PATH", later.toString());
            Process client = pb.start();
            try {
                var fromClient = client.inputReader();
                assertEquals("loaded", fromClient.readLine());
                assertTrue(Files.readString(Path.of("/proc/" + client.pid() + "/maps")).contains(later.resolve("libssl.so.3").toString()),
                        "the client runs on the later copy");
                awaitStderr(tracer, l -> l.startsWith("httptrace: tls: attached " + later.resolve("libssl.so.3")));
                assertTrue(tracer.stderr().stream().anyMatch(l -> l.startsWith("httptrace: tls: attached " + later.resolve("libssl.so.3"))
                        && l.contains("python3[" + client.pid() + "]")), "found by the rescan: " + String.join("\n", tracer.stderr()));
                client.getOutputStream().write("go\n".getBytes(StandardCharsets.US_ASCII));
                client.getOutputStream().flush();
                assertEquals("6", fromClient.readLine());
                assertTrue(client.waitFor(30, TimeUnit.SECONDS) && client.exitValue() == 0, "the client failed");
            } finally {
                client.destroy();
            }
            awaitRecords(tracer, 1, r -> r.at("/client/process/pid").asLong() == client.pid());
            Tcpdump.interrupt(tracer);
            assertEquals(0, tracer.waitFor(30), String.join("\n", tracer.stderr()));
            List<JsonNode> ours = tracer.stdout().stream().map(TlsIT::json)
                    .filter(r -> r.at("/client/process/pid").asLong() == client.pid()).toList();
            assertEquals(1, ours.size(), tracer.stdout() + "\n" + tracer.stderr());
            JsonNode r = ours.getFirst();
            assertEquals("/hello?later", r.at("/url/original").asText(), r.toString());
            assertEquals("https", r.at("/url/scheme").asText());
            assertEquals(200, r.at("/http/response/status_code").asInt());
        }
    }

    private static List<String> names(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** A client that does TLS over memory BIOs and moves the ciphertext to and from its socket itself. */
    private static String memoryBioClient(int port) {
        return """
                import socket, ssl
                c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
                incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
                tls = c.wrap_bio(incoming, outgoing, server_hostname="localhost")
                sock = socket.create_connection(("127.0.0.1", %d))
                def send():
                    data = outgoing.read()
                    if data: sock.sendall(data)
                def receive():
                    data = sock.recv(65536)
                    if not data: raise EOFError
                    incoming.write(data)
                while True:
                    try:
                        tls.do_handshake(); send(); break
                    except ssl.SSLWantReadError:
                        send(); receive()
                tls.write(b"GET /membio HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n"); send()
                response = b""
                while True:
                    try:
                        chunk = tls.read(65536)
                        if not chunk: break
                        response += chunk
                    except ssl.SSLWantReadError:
                        try: receive()
                        except EOFError: break
                    except ssl.SSLZeroReturnError:
                        break
                print(sock.getsockname()[1], len(response.split(b"\\r\\n\\r\\n", 1)[1]))
                """.formatted(port);
    }

    /**
     * The programs the tracer's JVM holds attached (uprobes on libssl, the socket tracepoints),
     * by id, read with bpftool while it runs. Others on this machine may trace libssl at the
     * same time (bpftrace, another httptrace): only the tracer's own are checked afterwards.
     */
    private static Set<String> probesOf(TracerProcess tracer) throws Exception {
        String pid = "pid " + tracer.java().pid() + " ";
        Set<String> ids = new HashSet<>();
        String perf = output("bpftool", "perf", "show");
        for (String line : perf.lines().filter(l -> l.startsWith(pid)).toList()) {
            Matcher m = PROG_ID.matcher(line);
            if (m.find()) ids.add(m.group(1));
        }
        assertTrue(perf.lines().anyMatch(l -> l.startsWith(pid) && l.contains("libssl")), "no uprobe on libssl:\n" + perf);
        return ids;
    }

    private static final Pattern PROG_ID = Pattern.compile("prog_id (\\d+)");

    /** None of the tracer's programs is loaded or attached any more (bpftool), after it exits; nothing in tracefs. */
    @Test
    void aClientThatReusesItsSslObjectForTheNextConnectionHasEachExchangeReportedOnceOnItsOwnConnection()
            throws Exception {
        // wrk keeps one SSL object per connection slot (SSL_clear, then a new handshake); the
        // server closes each connection after three requests, so one object serves many.
        try (TracerProcess tracer = TracerProcess.start("--tls -i lo -p " + shortLived, "")) {
            tracer.awaitTracing();
            Process wrk = new ProcessBuilder("wrk", "-t1", "-c1", "-d1s", url(shortLived, "/hello"))
                    .redirectErrorStream(true).start();
            String report = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(wrk.waitFor(30, TimeUnit.SECONDS) && wrk.exitValue() == 0, report);
            Matcher done = Pattern.compile("(\\d+) requests in").matcher(report);
            assertTrue(done.find(), report);
            long completed = Long.parseLong(done.group(1));
            assertTrue(completed >= 6, "wrk reconnected at least once: " + report);
            awaitRecords(tracer, (int) completed, ANY);
            new ProcessBuilder("kill", "-TERM", Long.toString(tracer.java().pid())).start().waitFor();
            assertEquals(0, tracer.waitFor(30));

            Map<Integer, Integer> perPort = new HashMap<>();
            for (String line : tracer.stdout()) {
                JsonNode r = JSON.readTree(line);
                assertEquals("/hello", r.at("/url/original").asText(), line);
                assertEquals(wrk.pid(), r.at("/client/process/pid").asLong(), line);
                assertEquals("nginx", r.at("/server/process/name").asText(), line);
                perPort.merge(r.at("/client/port").asInt(), 1, Integer::sum);
            }
            long reported = perPort.values().stream().mapToLong(Integer::longValue).sum();
            // wrk does not count the one request it may have had in flight when it stopped.
            assertTrue(reported >= completed && reported <= completed + 1,
                    "wrk completed " + completed + ", reported " + reported + "\n" + String.join("\n", tracer.stderr()));
            assertTrue(perPort.values().stream().allMatch(n -> n <= 3), "at most three per connection: " + perPort);
            assertTrue(perPort.size() >= completed / 3, "one connection per three requests: " + perPort.size());
        }
    }

    private static void assertNoProbesLeft(Set<String> ours) throws Exception {
        assertFalse(ours.isEmpty(), "the tracer's probes were seen while it ran");
        String progs = output("bpftool", "prog", "show");
        for (String id : ours) {
            assertFalse(progs.lines().anyMatch(l -> l.startsWith(id + ": ")), "program " + id + " still loaded:\n" + progs);
        }
        String perf = output("bpftool", "perf", "show");
        for (String line : perf.lines().toList()) {
            Matcher m = PROG_ID.matcher(line);
            assertFalse(m.find() && ours.contains(m.group(1)), "still attached: " + line);
        }
        // libbpf attaches uprobes through the kernel's uprobe PMU (perf_event_open), which
        // bpftool perf lists: that is checked above. Only without the PMU does it fall back to
        // legacy uprobes made in tracefs (uprobe_events), which outlive a crashed process and
        // are checked there. With neither, no uprobe could have been attached at all.
        Path uprobeEvents = Path.of("/sys/kernel/tracing/uprobe_events");
        boolean pmu = Files.exists(Path.of("/sys/bus/event_source/devices/uprobe/type"));
        if (Files.isReadable(uprobeEvents)) {
            assertFalse(Files.readString(uprobeEvents).contains("libssl"), "legacy uprobe events left in tracefs");
        } else {
            assertTrue(pmu, "no uprobe PMU and no tracefs at /sys/kernel/tracing: where were the probes attached?");
        }
    }

    /** The file a command on PATH runs, symbolic links resolved (as the kernel names it). */
    private static String realPath(String command) throws Exception {
        return Path.of(output("sh", "-c", "command -v " + command).strip()).toRealPath().toString();
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

    private static String pythonServer() {
        return """
                import http.server, ssl
                class H(http.server.BaseHTTPRequestHandler):
                    protocol_version = "HTTP/1.1"
                    def do_GET(self):
                        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
                        self.wfile.write(b"ok")
                    def log_message(self, *a): pass
                s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
                c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain("%s", "%s")
                s.socket = c.wrap_socket(s.socket, server_side=True)
                print(s.server_address[1], flush=True)
                s.serve_forever()
                """.formatted(dir.resolve("cert.pem"), dir.resolve("key.pem"));
    }

    private static Process python(String script) throws IOException {
        return new ProcessBuilder("python3", "-c", script).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static ServerSocket probe(String address) throws IOException {
        return new ServerSocket(0, 1, java.net.InetAddress.getByName(address));
    }

    /** Waits until something listens on the port (true), or the server exits first (false). */
    private static boolean awaitPortOrExit(Process server, int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return true;
            } catch (IOException e) {
                if (server.waitFor(100, TimeUnit.MILLISECONDS)) {
                    return false;
                }
            }
        }
        throw new AssertionError("nothing listens on " + port + " after 30 s; nginx said: " + read(dir.resolve("nginx.out")));
    }

    /**
     * Waits (up to 30 s) until the tracer has written at least n records that match, instead of
     * sleeping for a fixed time before it is stopped. At its stop the tracer still reads what its
     * rings hold, so records (or duplicates) that would come later are in its output all the same.
     */
    private static void awaitRecords(TracerProcess tracer, int n, Predicate<JsonNode> which) throws Exception {
        awaitUntil(() -> tracer.stdout().stream().map(TlsIT::json).filter(which).count() >= n);
    }

    private static void awaitStderr(TracerProcess tracer, Predicate<String> line) throws Exception {
        awaitUntil(() -> tracer.stderr().stream().anyMatch(line));
    }

    private static void awaitUntil(java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    private static JsonNode json(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static final Predicate<JsonNode> ANY = r -> true;

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
