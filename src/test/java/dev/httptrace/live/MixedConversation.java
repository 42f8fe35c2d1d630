package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.httptrace.live.ScriptedServer.After;
import dev.httptrace.live.ScriptedServer.Reply;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The traffic the agreement tests trace, on loopback, over IPv4 and IPv6:
 *
 * <ul>
 * <li><b>scripted cases</b>: raw bytes from a {@link RawClient} to a {@link ScriptedServer},
 *     each written with a purpose (framing rules, segmentation, text in bodies that looks
 *     like HTTP), with the exchange httptrace must report for each ({@link Expected});
 * <li><b>hostile cases</b>: request lines and framing a parsing server refuses (HTTP/0.9,
 *     targets with spaces, malformed lines, invalid lengths, request smuggling), answered by
 *     a {@link CannedServer} as real servers answer them, one connection each;
 * <li><b>ordinary traffic</b>: curl and the JDK HttpClient against the JDK HttpServer
 *     ({@link TestServer}), counted per request.
 * </ul>
 *
 * Every case has its own path, so a record names its case by server port and path.
 */
final class MixedConversation implements AutoCloseable {

    // Text that looks like HTTP inside bodies: body bytes, never messages.
    static final String FAKE_REQUEST = "GET /fake HTTP/1.1\r\nHost: fake\r\n\r\n";
    static final String FAKE_RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    static final int LARGE = 1 << 20;
    static final int HUGE_HEADER = 1_000_000;

    /**
     * An exchange httptrace must report.
     *
     * @param status     null when unanswered
     * @param unanswered why not answered (null when answered)
     * @param why        what the case exercises
     */
    record Expected(int serverPort, String method, String target, String version, Integer status,
                    long requestBody, long responseBody, String unanswered, boolean upgraded, boolean truncated,
                    String why, List<String> anomalies) {
        Expected(int serverPort, String method, String target, String version, Integer status, long requestBody,
                 long responseBody, String unanswered, boolean upgraded, boolean truncated, String why) {
            this(serverPort, method, target, version, status, requestBody, responseBody, unanswered, upgraded,
                    truncated, why, List.of());
        }

        /** One line with everything compared: how records and expectations are matched. */
        String line() {
            return describe(serverPort, method, target, version, status, requestBody, responseBody, unanswered,
                    upgraded, truncated) + anomalyText(anomalies);
        }
    }

    private static String anomalyText(List<String> anomalies) {
        return anomalies.isEmpty() ? "" : " | " + anomalies;
    }

    /** The same line for a JSON record as {@link Expected#line()} gives for an expectation. */
    static String line(JsonNode r) {
        JsonNode response = r.at("/http/response");
        List<String> anomalies = new ArrayList<>();
        r.at("/httptrace/anomalies").forEach(a -> anomalies.add(a.asText()));
        if (!r.at("/httptrace/malformed_request").isMissingNode()) {
            anomalies.add("malformed_request: " + r.at("/httptrace/malformed_request").asText());
        }
        return describe(r.at("/server/port").asInt(), r.at("/http/request/method").asText(),
                r.at("/url/original").asText(), r.at("/network/protocol/version").asText(),
                response.isMissingNode() ? null : response.path("status_code").asInt(0),
                r.at("/http/request/body/size").asLong(),
                response.isMissingNode() ? 0 : response.at("/body/size").asLong(),
                r.at("/httptrace/unanswered").isMissingNode() ? null : r.at("/httptrace/unanswered").asText(),
                r.at("/httptrace/upgraded").asBoolean(), r.at("/httptrace/truncated").asBoolean())
                + anomalyText(anomalies);
    }

    private static String describe(int port, String method, String target, String version, Integer status,
                                   long requestBody, long responseBody, String unanswered, boolean upgraded,
                                   boolean truncated) {
        return ":" + port + " " + method + " " + target + " HTTP/" + version + " -> "
                + (status == null ? "unanswered(" + unanswered + ")" : status + " body " + responseBody)
                + " | request body " + requestBody + (upgraded ? " | upgraded" : "") + (truncated ? " | truncated" : "");
    }

    private final ScriptedServer scripted4;
    private final ScriptedServer scripted6;
    private final CannedServer canned4;
    private final CannedServer canned6;
    private final TestServer ordinary4;
    private final TestServer ordinary6;
    private final boolean hugeHeader;
    private final List<Expected> expected = new ArrayList<>();
    /** Ordinary requests sent: "port METHOD target -> status" to count. */
    private final Map<String, Integer> ordinarySent = new TreeMap<>();

    /** @param hugeHeader also send a request with a 1 MB header (not for live tracing: the snap length cuts it) */
    MixedConversation(boolean hugeHeader) {
        this.hugeHeader = hugeHeader;
        scripted4 = new ScriptedServer("127.0.0.1", MixedConversation::route);
        scripted6 = new ScriptedServer("::1", MixedConversation::route);
        canned4 = new CannedServer("127.0.0.1");
        canned6 = new CannedServer("::1");
        ordinary4 = new TestServer("127.0.0.1");
        ordinary6 = new TestServer("::1");
    }

    /** Every server port, scripted ones first. */
    List<Integer> ports() {
        return List.of(scripted4.port(), scripted6.port(), canned4.port(), canned6.port(), ordinary4.port(),
                ordinary6.port());
    }

    /** A listening server the tcpdump filter matches (for {@link Tcpdump#stopAfterSentinel}). */
    InetSocketAddress sentinelTarget() {
        return scripted4.address();
    }

    List<Integer> scriptedPorts() {
        return List.of(scripted4.port(), scripted6.port(), canned4.port(), canned6.port());
    }

    List<Integer> hostilePorts() {
        return List.of(canned4.port(), canned6.port());
    }

    List<Integer> ordinaryPorts() {
        return List.of(ordinary4.port(), ordinary6.port());
    }

    /** A tcpdump filter for exactly this traffic. */
    String tcpdumpFilter() {
        return "tcp and (" + ports().stream().map(p -> "port " + p).collect(Collectors.joining(" or ")) + ")";
    }

    List<Expected> expected() {
        return List.copyOf(expected);
    }

    /** Ordinary exchanges sent, "port METHOD target -> status" with their counts. */
    Map<String, Integer> ordinarySent() {
        return Map.copyOf(ordinarySent);
    }

    int ordinaryCount() {
        return ordinarySent.values().stream().mapToInt(Integer::intValue).sum();
    }

    // ---------------------------------------------------------------- scripted cases

    private static final String OK_PLAIN = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello, world";
    private static final String OK_SHORT = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    private static final String[] CHUNKED = {
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n",
        Integer.toHexString(FAKE_REQUEST.length()) + ";name=value\r\n",
        FAKE_REQUEST + "\r\n" + Integer.toHexString(FAKE_RESPONSE.length()) + ";quoted=\"a b\"\r\n",
        FAKE_RESPONSE + "\r\n",
        "0\r\nX-Checksum: 1234\r\n\r\n"};
    private static final int CHUNKED_BODY = FAKE_REQUEST.length() + FAKE_RESPONSE.length();

    // A Content-Length body whose segments start with a status line and a request line.
    private static final String[] FAKE_IN_LENGTH = {
        "HTTP/1.1 200 OK\r\nContent-Type: message/http\r\nContent-Length: " + (2 * FAKE_RESPONSE.length() + FAKE_REQUEST.length()) + "\r\n\r\n",
        FAKE_RESPONSE, FAKE_REQUEST, FAKE_RESPONSE};

    private static final String HEAD_RESPONSE = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n";
    private static final String NO_CONTENT = "HTTP/1.1 204 No Content\r\nX-Note: nothing\r\n\r\n";
    // A 304 may carry the Content-Length of the representation it stands for; it has no body.
    private static final String NOT_MODIFIED = "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 1000\r\n\r\n";
    private static final String CREATED = "HTTP/1.1 201 Created\r\nLocation: /continue/1\r\nContent-Length: 7\r\n\r\ncreated";
    private static final String HTTP10 = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n";
    private static final String HTTP10_BODY = "a body delimited by the close\n";
    private static final String SWITCHING = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x-raw/1\r\n\r\n";
    private static final String RAW_FROM_SERVER = "\u0000\u0001\u00ff" + FAKE_RESPONSE + "binary\u0000";
    private static final String RAW_FROM_CLIENT = "GET /after-upgrade HTTP/1.1\r\nHost: h\r\n\r\n\u0000\u0002\u00fe";
    private static final String PIPE_1 = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none";
    private static final String PIPE_2 = "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n"; // to HEAD: no body
    private static final String PIPE_3 = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nthree";

    private static String largeHead() {
        return "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + LARGE + "\r\n\r\n";
    }

    private static byte[] largeBody() {
        byte[] pattern = (FAKE_RESPONSE + FAKE_REQUEST).getBytes(StandardCharsets.ISO_8859_1);
        byte[] body = new byte[LARGE];
        for (int i = 0; i < body.length; i++) {
            body[i] = pattern[i % pattern.length];
        }
        return body;
    }

    private static final byte[] LARGE_BODY = largeBody();

    /** The server side of every scripted case, by path. */
    static Reply route(ScriptedServer.Request r) {
        return switch (r.path()) {
            case "/plain", "/split-head", "/before-unanswered" -> Reply.keepAlive(OK_PLAIN);
            case "/chunked" -> Reply.keepAlive(CHUNKED);
            case "/fake-in-length" -> Reply.keepAlive(FAKE_IN_LENGTH);
            case "/head" -> Reply.keepAlive(HEAD_RESPONSE);
            case "/no-content" -> Reply.keepAlive(NO_CONTENT);
            case "/not-modified" -> Reply.keepAlive(NOT_MODIFIED);
            case "/continue" -> Reply.keepAlive(CREATED);
            case "/upload", "/chunked-upload", "/huge-header" -> Reply.keepAlive(OK_SHORT);
            case "/large" -> Reply.bytes(After.KEEP_ALIVE, List.of(
                    largeHead().getBytes(StandardCharsets.ISO_8859_1), LARGE_BODY));
            case "/pipe/1" -> Reply.keepAlive(PIPE_1);
            case "/pipe/2" -> Reply.keepAlive(PIPE_2);
            case "/pipe/3" -> Reply.keepAlive(PIPE_3);
            case "/http10" -> Reply.of(After.CLOSE, HTTP10, HTTP10_BODY, HTTP10_BODY);
            case "/upgrade" -> Reply.of(After.RAW, SWITCHING, RAW_FROM_SERVER);
            case "/unanswered" -> Reply.none();
            default -> null;
        };
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: scripted\r\nUser-Agent: raw-client\r\n\r\n";
    }

    /** Runs every scripted case over IPv4 and IPv6, recording what httptrace must report. */
    void runScripted() throws Exception {
        for (ScriptedServer server : List.of(scripted4, scripted6)) {
            keepAliveConnection(server);
            pipelinedConnection(server);
            http10Connection(server);
            upgradeConnection(server);
            unansweredConnection(server);
        }
        for (CannedServer server : List.of(canned4, canned6)) {
            hostileConnections(server);
        }
        for (ScriptedServer server : List.of(scripted4, scripted6)) {
            assertEquals(List.of(), server.failures(), "scripted server errors");
        }
        for (CannedServer server : List.of(canned4, canned6)) {
            assertEquals(List.of(), server.failures(), "canned server errors");
        }
    }

    // ---------------------------------------------------------------- hostile cases

    private static final String BAD_REQUEST =
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nbad request";
    private static final String NOT_ALLOWED =
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    private static final String OK_CLOSE = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

    /**
     * One connection per case: the client's bytes in one segment, the server's answer, the close.
     * What httptrace must report follows the lenient reading of RFC 9112 the README documents.
     */
    private void hostileConnections(CannedServer server) throws Exception {
        int port = server.port();
        canned(server, "CONNECT mail.example:25 / HTTP/1.0\r\n\r\n", NOT_ALLOWED);
        hostile(port, "CONNECT", "mail.example:25 /", "1.0", 405, 0, 0, "request-target with a space, answered 405",
                "request.target_with_space");
        canned(server, "GET HTTP/1.1\r\nHost: h\r\n\r\n", BAD_REQUEST);
        hostile(port, "GET", "", "1.1", 400, 0, 11, "empty request-target, answered 400", "request.target_empty");
        canned(server, "GET /nine\r\n", "<html>HTTP/0.9 answer</html>\n");
        hostile(port, "GET", "/nine", "0.9", 0, 0, 29, "HTTP/0.9 simple request: the answer is the bytes until the close");
        canned(server, "get /lower-case HTTP/1.1\r\nHost: h\r\n\r\n", NOT_ALLOWED);
        hostile(port, "get", "/lower-case", "1.1", 405, 0, 0, "lower-case method (a token, so a method), answered 405");
        canned(server, "PURGE /extension HTTP/1.1\r\nHost: h\r\n\r\n", OK_CLOSE);
        hostile(port, "PURGE", "/extension", "1.1", 200, 0, 2, "extension method");
        String junk = "\u0001\u0002 not a request \u00ff";
        canned(server, junk + "\r\nHost: h\r\n\r\n", BAD_REQUEST);
        // Bytes that are not UTF-8 show as U+FFFD, as everywhere in a record.
        expected.add(new Expected(port, null, "", "", 400, 0, 11, null, false, false,
                "bytes that are no request line, answered 400",
                List.of("malformed_request: " + junk.replace('\u00ff', '\ufffd'))));
        canned(server, "POST /length-negative HTTP/1.1\r\nHost: h\r\nContent-Length: -5\r\n\r\n", BAD_REQUEST);
        hostile(port, "POST", "/length-negative", "1.1", 400, 0, 11, "negative Content-Length: no body, answered 400",
                "request.content_length_invalid");
        canned(server, "POST /length-conflict HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc",
                BAD_REQUEST);
        hostile(port, "POST", "/length-conflict", "1.1", 400, 3, 11,
                "two different Content-Length headers: the first frames the body, answered 400",
                "request.content_length_conflict");
        canned(server, "POST /chunk-huge HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n",
                BAD_REQUEST);
        hostile(port, "POST", "/chunk-huge", "1.1", 400, 0, 11, "chunk size beyond 2^64, answered 400",
                "request.chunked_invalid");
        canned(server, "GET /fold HTTP/1.1\r\nHost: h\r\nX-Folded: one\r\n two\r\n\r\n", OK_CLOSE);
        hostile(port, "GET", "/fold", "1.1", 200, 0, 2, "obsolete line folding", "request.obs_fold");
        String smuggle = "POST /smuggle HTTP/1.1\r\nHost: h\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n";
        canned(server, smuggle, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + NOT_ALLOWED);
        hostile(port, "POST", "/smuggle", "1.1", 200, 0, 2,
                "request smuggling (Transfer-Encoding and Content-Length): chunked wins, a second request follows",
                "request.transfer_encoding_with_content_length");
        hostile(port, "GET", "/smuggled", "1.1", 405, 0, 0, "the request smuggled after the chunked body");
        canned(server, "POST /coding-unknown HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\nContent-Length: 2\r\n\r\nhi",
                "HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        hostile(port, "POST", "/coding-unknown", "1.1", 501, 2, 0,
                "unknown transfer coding beside Content-Length: the length frames the body, answered 501",
                "request.transfer_encoding_unknown", "request.transfer_encoding_with_content_length");
        canned(server, "GET /cut-short HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell");
        hostile(port, "GET", "/cut-short", "1.1", 200, 0, 4, "response body cut short by the close: 4 bytes of 5",
                "response.body_incomplete");
    }

    private static void canned(CannedServer server, String request, String answer) throws Exception {
        server.next(request, answer);
        try (RawClient c = new RawClient(server.address())) {
            c.write(request.getBytes(StandardCharsets.ISO_8859_1));
            assertArrayEquals(answer.getBytes(StandardCharsets.ISO_8859_1), c.readToEnd());
        }
    }

    private void hostile(int port, String method, String target, String version, int status, long requestBody,
                         long responseBody, String why, String... anomalies) {
        expected.add(new Expected(port, method, target, version, status, requestBody, responseBody, null, false, false,
                why, List.of(anomalies)));
    }

    private void keepAliveConnection(ScriptedServer server) throws Exception {
        int port = server.port();
        try (RawClient c = new RawClient(server.address())) {
            c.send(get("/plain"));
            c.expect(OK_PLAIN);
            expect(port, "GET", "/plain", 200, 0, 12, "plain GET, Content-Length");

            c.send("GE", "T /split-head HTTP/1.1\r\nHo", "st: scripted\r\n", "Accept: */*\r", "\n\r\n");
            c.expect(OK_PLAIN);
            expect(port, "GET", "/split-head", 200, 0, 12, "request head split across five segments");

            c.send(get("/chunked"));
            c.expect(String.join("", CHUNKED));
            expect(port, "GET", "/chunked", 200, 0, CHUNKED_BODY,
                    "chunked response with extensions and a trailer; chunks are request and status lines");

            c.send(get("/fake-in-length"));
            c.expect(String.join("", FAKE_IN_LENGTH));
            expect(port, "GET", "/fake-in-length", 200, 0, 2 * FAKE_RESPONSE.length() + FAKE_REQUEST.length(),
                    "Content-Length body whose segments start with status and request lines");

            c.send("HEAD /head HTTP/1.1\r\nHost: scripted\r\n\r\n");
            c.expect(HEAD_RESPONSE);
            expect(port, "HEAD", "/head", 200, 0, 0, "HEAD: Content-Length 1000 but no body");

            c.send(get("/no-content"));
            c.expect(NO_CONTENT);
            expect(port, "GET", "/no-content", 204, 0, 0, "204: no body");

            c.send("GET /not-modified HTTP/1.1\r\nHost: scripted\r\nIf-None-Match: \"v1\"\r\n\r\n");
            c.expect(NOT_MODIFIED);
            expect(port, "GET", "/not-modified", 304, 0, 0, "304 with Content-Length 1000: no body");

            c.send("POST /continue HTTP/1.1\r\nHost: scripted\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
                    + "Expect: 100-continue\r\n\r\n");
            c.expect(ScriptedServer.CONTINUE);
            c.send("hello=world");
            c.expect(CREATED);
            expect(port, "POST", "/continue", 201, 11, 7, "Expect: 100-continue, 100 Continue, then the body and 201");

            String upload = "u".repeat(5000);
            c.send("POST /upload HTTP/1.1\r\nHost: scripted\r\nContent-Length: 5000\r\n\r\n" + upload.substring(0, 1000),
                    upload.substring(1000));
            c.expect(OK_SHORT);
            expect(port, "POST", "/upload", 200, 5000, 2, "request body by Content-Length, two segments");

            c.send("POST /chunked-upload HTTP/1.1\r\nHost: scripted\r\nTransfer-Encoding: chunked\r\n\r\n",
                    "a;ext=1\r\n0123456789\r\n", "5\r\nabcde\r\n", "0\r\nX-Trailer: t\r\n\r\n");
            c.expect(OK_SHORT);
            expect(port, "POST", "/chunked-upload", 200, 15, 2, "chunked request body with an extension and a trailer");

            c.send(get("/large"));
            c.read(largeHead().length() + LARGE);
            expect(port, "GET", "/large", 200, 0, LARGE, "1 MiB response body in one write");

            if (hugeHeader) {
                String head = "GET /huge-header HTTP/1.1\r\nHost: scripted\r\nX-Big: " + "b".repeat(HUGE_HEADER)
                        + "\r\nX-After: 1\r\n\r\n";
                c.write(head.getBytes(StandardCharsets.ISO_8859_1));
                c.expect(OK_SHORT);
                expected.add(new Expected(port, "GET", "/huge-header", "1.1", 200, 0, 2, null, false, true,
                        "request head of 1 MB (over the 64 KiB head limit: truncated)"));
            }
        }
    }

    private void pipelinedConnection(ScriptedServer server) throws Exception {
        int port = server.port();
        try (RawClient c = new RawClient(server.address())) {
            String requests = get("/pipe/1") + "HEAD /pipe/2 HTTP/1.1\r\nHost: scripted\r\n\r\n"
                    + "POST /pipe/3 HTTP/1.1\r\nHost: scripted\r\nContent-Length: 10\r\n\r\n0123456789";
            c.write(requests.getBytes(StandardCharsets.ISO_8859_1));
            c.expect(PIPE_1 + PIPE_2 + PIPE_3);
            expect(port, "GET", "/pipe/1", 200, 0, 3, "pipelined: three requests in one segment, answers in one");
            expect(port, "HEAD", "/pipe/2", 200, 0, 0, "pipelined HEAD: its Content-Length frames nothing");
            expect(port, "POST", "/pipe/3", 201, 10, 5, "pipelined POST with a body");
        }
    }

    private void http10Connection(ScriptedServer server) throws Exception {
        try (RawClient c = new RawClient(server.address())) {
            c.send("GET /http10 HTTP/1.0\r\nHost: scripted\r\n\r\n");
            byte[] all = c.readToEnd();
            assertArrayEquals((HTTP10 + HTTP10_BODY + HTTP10_BODY).getBytes(StandardCharsets.ISO_8859_1), all);
        }
        expected.add(new Expected(server.port(), "GET", "/http10", "1.0", 200, 0, 2L * HTTP10_BODY.length(),
                null, false, false, "HTTP/1.0 request, response body delimited by the close"));
    }

    private void upgradeConnection(ScriptedServer server) throws Exception {
        try (RawClient c = new RawClient(server.address())) {
            c.send("GET /upgrade HTTP/1.1\r\nHost: scripted\r\nConnection: Upgrade\r\nUpgrade: x-raw/1\r\n\r\n");
            c.expect(SWITCHING + RAW_FROM_SERVER);
            c.send(RAW_FROM_CLIENT);
            c.shutdownOutput();
            assertEquals(0, c.readToEnd().length, "the server closes after the client");
        }
        expected.add(new Expected(server.port(), "GET", "/upgrade", "1.1", 101, 0, 0, null, true, false,
                "101 Switching Protocols, then non-HTTP bytes (with HTTP text) both ways"));
    }

    private void unansweredConnection(ScriptedServer server) throws Exception {
        int port = server.port();
        try (RawClient c = new RawClient(server.address())) {
            c.send(get("/before-unanswered"));
            c.expect(OK_PLAIN);
            c.send(get("/unanswered"));
            assertTrue(server.awaitRequest("/unanswered", 10_000), "the server read the request");
        } // the client closes without an answer; the server then closes too
        expect(port, "GET", "/before-unanswered", 200, 0, 12, "answered request before an unanswered one");
        expected.add(new Expected(port, "GET", "/unanswered", "1.1", null, 0, 0, "closed", false, false,
                "request never answered; the client closes the connection"));
    }

    private void expect(int port, String method, String target, int status, long requestBody, long responseBody,
                        String why) {
        expected.add(new Expected(port, method, target, "1.1", status, requestBody, responseBody, null, false, false, why));
    }

    // ---------------------------------------------------------------- ordinary traffic

    /**
     * curl (several URLs per invocation, so connections are reused) and the JDK HttpClient
     * (keep-alive pool) against the JDK HttpServer, over IPv4 and IPv6: {@code 2 * rounds * 6}
     * exchanges.
     */
    void runOrdinary(int rounds) throws Exception {
        for (TestServer server : List.of(ordinary4, ordinary6)) {
            for (int i = 0; i < rounds; i++) {
                curlRound(server, i);
            }
            try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build()) {
                for (int i = 0; i < rounds; i++) {
                    send(client, server, HttpRequest.newBuilder(server.uri("/hello")).GET(), "GET", "/hello", 200);
                    send(client, server, HttpRequest.newBuilder(server.uri("/items"))
                            .POST(HttpRequest.BodyPublishers.ofString("x".repeat(i * 37))), "POST", "/items", 201);
                    send(client, server, HttpRequest.newBuilder(server.uri("/missing/" + i + "?q=" + i)).GET(),
                            "GET", "/missing/" + i + "?q=" + i, 404);
                }
            }
        }
    }

    private void curlRound(TestServer server, int i) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "10",
                "-o", "/dev/null", server.uri("/hello").toString()));
        command.addAll(List.of("--next", "-sS", "--max-time", "10", "-o", "/dev/null",
                "--data-binary", "curl-" + i, server.uri("/items").toString()));
        command.addAll(List.of("--next", "-sS", "--max-time", "10", "-o", "/dev/null",
                server.uri("/curl/" + i + "?a=b").toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "curl finished");
        assertEquals(0, p.exitValue(), "curl: " + out);
        count(server.port(), "GET", "/hello", 200);
        count(server.port(), "POST", "/items", 201);
        count(server.port(), "GET", "/curl/" + i + "?a=b", 404);
    }

    private void send(HttpClient client, TestServer server, HttpRequest.Builder request, String method, String target,
                      int status) throws Exception {
        HttpResponse<byte[]> response = client.send(request.timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(status, response.statusCode(), method + " " + target);
        count(server.port(), method, target, status);
    }

    private void count(int port, String method, String target, int status) {
        ordinarySent.merge(":" + port + " " + method + " " + target + " -> " + status, 1, Integer::sum);
    }

    /** Counts records the way {@link #ordinarySent} counts requests. */
    static Map<String, Integer> ordinaryKeys(List<JsonNode> records, List<Integer> ports) {
        Map<String, Integer> counts = new TreeMap<>();
        for (JsonNode r : records) {
            int port = r.at("/server/port").asInt();
            if (ports.contains(port)) {
                String status = r.at("/http/response/status_code").isMissingNode() ? "unanswered"
                        : r.at("/http/response/status_code").asText();
                counts.merge(":" + port + " " + r.at("/http/request/method").asText() + " "
                        + r.at("/url/original").asText() + " -> " + status, 1, Integer::sum);
            }
        }
        return counts;
    }

    /** Expectation lines and record lines of the scripted ports, sorted, for one assertEquals. */
    static List<String> sortedLines(List<Expected> expected) {
        return expected.stream().map(Expected::line).sorted().toList();
    }

    static List<String> sortedLines(List<JsonNode> records, List<Integer> ports) {
        return records.stream().filter(r -> ports.contains(r.at("/server/port").asInt()))
                .map(MixedConversation::line).sorted().toList();
    }

    private boolean closed;

    /** Stops the servers (closing the connections they still have); idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        scripted4.close();
        scripted6.close();
        canned4.close();
        canned6.close();
        ordinary4.close();
        ordinary6.close();
    }
}
