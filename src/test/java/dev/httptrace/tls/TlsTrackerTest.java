package dev.httptrace.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.httptrace.capture.Segment;
import dev.httptrace.capture.TlsRecord;
import dev.httptrace.exchange.Exchange;
import dev.httptrace.testing.H2;
import dev.httptrace.pipeline.Tracer;
import dev.httptrace.output.JsonLinesWriter;
import dev.httptrace.output.SchemaValidator;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The TLS source: plaintext records of OpenSSL calls become the same exchanges as packets do. */
class TlsTrackerTest {

    /** Process ids no real process has (pid_max is at most 4194304 and rarely reached). */
    static final int CLIENT = 4_190_010, SERVER = 4_190_020;
    static final byte[] LOCALHOST = {127, 0, 0, 1};
    /** The kernel's number of every stream here. */
    static final int SERIAL = 7;
    static final byte[] NONE = {};
    static final String REQUEST = "GET /hello HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret\r\n\r\n";
    static final String RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

    final List<Exchange> exchanges = new ArrayList<>();
    /** Streams the kernel was told to stop copying, as "pid/ssl/serial". */
    final List<String> muted = new ArrayList<>();
    /** Connections whose packets the kernel was told to stop copying, as "localPort-remotePort". */
    final List<String> skipped = new ArrayList<>();
    final TlsTracker.Kernel kernel = new TlsTracker.Kernel() {
        @Override
        public void mute(int pid, long ssl, int serial) {
            muted.add(pid + "/" + ssl + "/" + serial);
        }

        @Override
        public void skipPackets(byte[] localAddress, int localPort, byte[] remoteAddress, int remotePort) {
            skipped.add(localPort + "-" + remotePort);
        }
    };
    final Tracer tracer = new Tracer(exchanges::add, Tracer.Settings.defaults());

    TlsTrackerTest() {
        tracer.traceTls(null, kernel);
    }

    /** A call of process {@code pid} on SSL object 0x1000+pid, with the socket local:lport -> remote:rport. */
    static TlsRecord call(long ts, int pid, boolean sent, long pos, long otherPos, String data, int lport, int rport) {
        byte[] bytes = data.getBytes(StandardCharsets.ISO_8859_1);
        boolean known = lport != 0;
        return new TlsRecord(ts, 0x1000 + pid, SERIAL, pid, pid, "proc" + pid, false, sent, pos, otherPos, bytes, 0,
                bytes.length, 0, true, known ? LOCALHOST : NONE, lport, known ? LOCALHOST : NONE, rport);
    }

    static TlsRecord free(long ts, int pid, long wrPos, long rdPos, int lport, int rport) {
        boolean known = lport != 0;
        return new TlsRecord(ts, 0x1000 + pid, SERIAL, pid, pid, "proc" + pid, true, false, wrPos, rdPos, new byte[0], 0,
                0, 0, true, known ? LOCALHOST : NONE, lport, known ? LOCALHOST : NONE, rport);
    }

    @Test
    void aClientsCallsMakeOneHttpsExchangeWithItsProcessAndSocket() {
        tracer.accept(call(1_000, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        tracer.accept(call(2_000, CLIENT, false, 0, REQUEST.length(), RESPONSE, 40000, 443));
        assertEquals(List.of(), exchanges, "it waits a moment for records of a process at the other end");
        tracer.finish();

        assertEquals(1, exchanges.size());
        Exchange x = exchanges.getFirst();
        assertEquals("/hello", x.request().target());
        assertEquals(200, x.response().statusCode());
        assertEquals(5, x.response().bodySize());
        assertEquals(40000, x.client().port());
        assertEquals(443, x.server().port());
        assertEquals(CLIENT, x.tls().clientProcess().pid());
        assertNull(x.tls().serverProcess(), "the server is not traced");
        assertTrue(x.tls().socketKnown());
        assertEquals(1_000, x.response().timestampNanos() - x.request().timestampNanos());
    }

    @Test
    void recordsFromDifferentCpusArePutBackInOrderByTheirPositions() {
        String first = REQUEST.substring(0, 10), rest = REQUEST.substring(10);
        tracer.accept(call(1_100, CLIENT, true, 10, 0, rest, 40000, 443));
        tracer.accept(call(1_000, CLIENT, true, 0, 0, first, 40000, 443));
        tracer.accept(call(2_000, CLIENT, false, 0, REQUEST.length(), RESPONSE, 40000, 443));
        tracer.finish();

        assertEquals(1, exchanges.size());
        assertEquals("/hello", exchanges.getFirst().request().target());
        assertFalse(exchanges.getFirst().trace().gap());
    }

    @Test
    void bothEndsOnThisHostMakeOneRecordCarryingBothProcesses() {
        // curl (pid 10) writes the request, nginx (pid 20) reads it, answers, curl reads the answer.
        tracer.accept(call(1_000, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        tracer.accept(call(1_100, SERVER, false, 0, 0, REQUEST, 443, 40000));
        tracer.accept(call(1_500, SERVER, true, 0, REQUEST.length(), RESPONSE, 443, 40000));
        tracer.accept(call(2_000, CLIENT, false, 0, REQUEST.length(), RESPONSE, 40000, 443));
        tracer.accept(free(3_000, SERVER, RESPONSE.length(), REQUEST.length(), 443, 40000));
        tracer.accept(free(3_100, CLIENT, REQUEST.length(), RESPONSE.length(), 40000, 443));
        tracer.finish();

        assertEquals(1, exchanges.size(), "never reported twice");
        Exchange x = exchanges.getFirst();
        assertEquals(CLIENT, x.tls().clientProcess().pid());
        assertEquals(SERVER, x.tls().serverProcess().pid());
        assertEquals(3, tracer.tlsCounters().peerRecords(), "the server's own records were not parsed again");
        assertEquals(List.of(SERVER + "/" + (0x1000 + SERVER) + "/" + SERIAL), muted, "the kernel stops copying the second end");
    }

    @Test
    void theOtherEndJoinsEvenWhenItsFirstRecordsComeAfterTheReporterEnded() {
        // The client was preempted inside its first SSL_write while the server read, answered
        // and closed the connection: the client's records come after the server's SSL_free.
        tracer.accept(call(1_000, SERVER, false, 0, 0, REQUEST, 443, 40000));
        tracer.accept(call(1_500, SERVER, true, 0, REQUEST.length(), RESPONSE, 443, 40000));
        tracer.accept(free(1_600, SERVER, RESPONSE.length(), REQUEST.length(), 443, 40000));
        tracer.accept(call(1_700, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        tracer.accept(call(2_000, CLIENT, false, 0, REQUEST.length(), RESPONSE, 40000, 443));
        tracer.finish();

        assertEquals(1, exchanges.size(), "never reported twice");
        assertEquals(CLIENT, exchanges.getFirst().tls().clientProcess().pid());
        assertEquals(SERVER, exchanges.getFirst().tls().serverProcess().pid());
        assertEquals(List.of(CLIENT + "/" + (0x1000 + CLIENT) + "/" + SERIAL), muted);
    }

    @Test
    void aNewConnectionOnTheSameSideAndPortsLongAfterTheEndIsItsOwn() {
        tracer.accept(call(1_000, SERVER, false, 0, 0, REQUEST, 443, 40000));
        tracer.accept(call(1_500, SERVER, true, 0, REQUEST.length(), RESPONSE, 443, 40000));
        tracer.accept(free(1_600, SERVER, RESPONSE.length(), REQUEST.length(), 443, 40000));
        long later = 1_600 + TlsTracker.LATE_PEER_NANOS + 1;
        tracer.accept(call(later, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        tracer.accept(call(later + 500, CLIENT, false, 0, REQUEST.length(), RESPONSE, 40000, 443));
        tracer.finish();

        assertEquals(2, exchanges.size(), "a connection reusing the ports a second later is not a peer");
        assertEquals(List.of(), muted);
    }

    @Test
    void anSslObjectReusedForANewConnectionStartsANewStreamAndNothingIsReportedTwice() {
        // wrk keeps one SSL object per connection slot: when the server closes a keep-alive
        // connection, the same object serves the next one from another port.
        tracer.accept(call(1_000, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        tracer.accept(call(2_000, CLIENT, false, 0, REQUEST.length(), RESPONSE, 40000, 443));
        tracer.accept(call(3_000, CLIENT, true, REQUEST.length(), RESPONSE.length(), REQUEST, 40002, 443));
        tracer.accept(call(4_000, CLIENT, false, RESPONSE.length(), 2L * REQUEST.length(), RESPONSE, 40002, 443));
        tracer.finish();

        assertEquals(2, exchanges.size());
        assertEquals(List.of(40000, 40002), exchanges.stream().map(x -> x.client().port()).toList());
        assertEquals(2, tracer.tlsCounters().streams());
        assertTrue(exchanges.stream().noneMatch(x -> x.trace().gap()));
    }

    @Test
    void aStreamLeftOutByTheFiltersIsMutedInTheKernel() {
        Tracer filtered = new Tracer(exchanges::add, Tracer.Settings.defaults());
        filtered.traceTls(new dev.httptrace.capture.SegmentFilter(java.util.Set.of(8443),
                dev.httptrace.capture.HostFilter.ANY), kernel);
        filtered.accept(call(1_000, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        filtered.accept(call(2_000, CLIENT, false, 0, REQUEST.length(), RESPONSE, 40000, 443));
        filtered.finish();

        assertEquals(List.of(), exchanges);
        assertEquals(List.of(CLIENT + "/" + (0x1000 + CLIENT) + "/" + SERIAL), muted);
    }

    @Test
    void exchangesOfBothSourcesComeOutInTheOrderOfTheirRequests() {
        // An HTTPS exchange waits a moment for the process at its other end; a plain one seen in
        // packets after it is complete at once. The later request must still come out second.
        long t = dev.httptrace.testing.Conversation.create().now();
        tracer.accept(call(t - 2_000_000, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        tracer.accept(call(t - 1_000_000, CLIENT, false, 0, REQUEST.length(), RESPONSE, 40000, 443));
        for (Segment s : dev.httptrace.testing.Conversation.create().handshake()
                .client("GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
                .server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").segments()) {
            tracer.accept(s);
        }
        tracer.expire(t + 10_000_000);
        assertEquals(List.of(), exchanges, "held for the window");
        tracer.finish();
        assertEquals(List.of("/hello", "/after"), exchanges.stream().map(x -> x.request().target()).toList());
    }

    @Test
    void streamsCarryTheInterfaceOfTheirSocketsRouteAndIfaceLeavesOutTheOthers() {
        // Port 443 is routed on interface 7, 8443 on 1; a socket that is not known has no route.
        SocketRoutes routes = (local, remote) -> 7;
        Tracer all = new Tracer(exchanges::add, Tracer.Settings.defaults());
        all.traceTls(null, kernel);
        all.routeTls(routes, null);
        all.accept(call(1_000, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        all.accept(call(2_000, CLIENT, false, 0, REQUEST.length(), RESPONSE, 40000, 443));
        all.finish();
        assertEquals(List.of(7), exchanges.stream().map(Exchange::ifindex).toList(), "the record names its interface");

        exchanges.clear();
        Tracer onlyLo = new Tracer(exchanges::add, Tracer.Settings.defaults());
        onlyLo.traceTls(null, kernel);
        onlyLo.routeTls((local, remote) -> 1, i -> i == 9); // -i names interface 9; these sockets use 1
        onlyLo.accept(call(1_000, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        onlyLo.accept(call(2_000, CLIENT, false, 0, REQUEST.length(), RESPONSE, 40000, 443));
        onlyLo.accept(call(3_000, SERVER, true, 0, 0, REQUEST, 0, 0)); // socket unknown: cannot be on it
        onlyLo.finish();
        assertEquals(List.of(), exchanges, "never more than asked");
        assertEquals(List.of(CLIENT + "/" + (0x1000 + CLIENT) + "/" + SERIAL, SERVER + "/" + (0x1000 + SERVER) + "/" + SERIAL),
                muted, "the kernel stops copying them");

        Tracer onIt = new Tracer(exchanges::add, Tracer.Settings.defaults());
        onIt.traceTls(null, kernel);
        onIt.routeTls((local, remote) -> 9, i -> i == 9);
        onIt.accept(call(1_000, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        onIt.accept(call(2_000, CLIENT, false, 0, REQUEST.length(), RESPONSE, 40000, 443));
        onIt.finish();
        assertEquals(List.of(9), exchanges.stream().map(Exchange::ifindex).toList());
    }

    @Test
    void theProcessAtTheOtherEndIsFoundEvenWhenItsRecordsComeAfterTheExchangeIsComplete() {
        // The server's records were read first; the client's (its thread preempted before its
        // return probe) come after the server has answered.
        tracer.accept(call(1_000, SERVER, false, 0, 0, REQUEST, 443, 40000));
        tracer.accept(call(1_500, SERVER, true, 0, REQUEST.length(), RESPONSE, 443, 40000));
        tracer.accept(call(1_600, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        tracer.accept(call(2_000, CLIENT, false, 0, REQUEST.length(), RESPONSE, 40000, 443));
        tracer.finish();

        assertEquals(1, exchanges.size());
        assertEquals(CLIENT, exchanges.getFirst().tls().clientProcess().pid());
        assertEquals(SERVER, exchanges.getFirst().tls().serverProcess().pid());
    }

    @Test
    void aStreamWhoseSocketIsUnknownSaysSoAndStillReportsItsExchanges() throws Exception {
        tracer.accept(call(1_000, CLIENT, true, 0, 0, REQUEST, 0, 0));
        tracer.accept(call(2_000, CLIENT, false, 0, REQUEST.length(), RESPONSE, 0, 0));
        tracer.finish(); // out of the order window

        assertEquals(1, exchanges.size());
        Exchange x = exchanges.getFirst();
        assertFalse(x.tls().socketKnown());
        assertEquals(0, x.client().address().length);

        JsonNode json = json(x);
        assertEquals("unknown", json.at("/httptrace/tls/attribution").asText());
        assertTrue(json.at("/client/address").isMissingNode());
        assertTrue(json.at("/network/type").isMissingNode());
        assertEquals(CLIENT, json.at("/client/process/pid").asInt());
    }

    @Test
    void theJsonRecordSaysHttpsCarriesTheProcessesAndRedactsSecrets() throws Exception {
        tracer.accept(call(1_000, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        tracer.accept(call(1_100, SERVER, false, 0, 0, REQUEST, 443, 40000));
        tracer.accept(call(2_000, CLIENT, false, 0, REQUEST.length(), RESPONSE, 40000, 443));
        tracer.finish(); // out of the order window

        JsonNode json = json(exchanges.getFirst());
        assertEquals("https", json.at("/url/scheme").asText());
        assertEquals("socket", json.at("/httptrace/tls/attribution").asText());
        assertEquals("proc" + CLIENT, json.at("/client/process/thread/name").asText());
        assertEquals("proc" + CLIENT, json.at("/client/process/name").asText(), "the process was gone: its thread's name");
        assertEquals(SERVER, json.at("/server/process/pid").asInt());
        assertEquals("127.0.0.1", json.at("/server/address").asText());
        assertFalse(json.toString().contains("secret"));
    }

    @Test
    void lostRecordsMarkTheExchangeAsAGapInsteadOfWaitingForever() {
        tracer.accept(call(1_000, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        // The response's first 20 bytes were lost; the rest arrived.
        tracer.accept(call(2_000, CLIENT, false, 20, REQUEST.length(), RESPONSE.substring(20), 40000, 443));
        tracer.tlsLost();
        tracer.finish();

        assertEquals(1, exchanges.size());
        assertEquals("gap", exchanges.getFirst().trace().unanswered(), "the response was lost, not waited for");
        assertEquals(1, tracer.stats().gaps());
    }

    @Test
    void bytesOfALargeCallThatWereNotCopiedAreSkippedByLengthAndTheRecordStaysExact() {
        String head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
        tracer.accept(call(1_000, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        byte[] bytes = head.getBytes(StandardCharsets.ISO_8859_1);
        tracer.accept(new TlsRecord(2_000, 0x1000 + CLIENT, SERIAL, CLIENT, CLIENT, "client", false, false, 0, REQUEST.length(), bytes,
                0, bytes.length, 100_000, true, LOCALHOST, 40000, LOCALHOST, 443));
        tracer.finish();

        assertEquals(1, exchanges.size());
        assertEquals(100_000, exchanges.getFirst().response().bodySize());
        assertFalse(exchanges.getFirst().trace().gap());
    }

    @Test
    void http2InsideTlsIsReadLikeH2cAndReportedWithItsProcess() {
        String preface = iso(H2.cat(H2.PREFACE, H2.settings()));
        String request = iso(H2.headers(1, true, H2.block(":method GET", ":scheme https", ":path /h2", ":authority x")));
        String settings = iso(H2.settings(0x3, 100));
        String response = iso(H2.cat(H2.headers(1, false, H2.block(":status 200")), H2.data(1, true, "hello")));
        tracer.accept(call(1_000, CLIENT, true, 0, 0, preface, 40000, 443));
        tracer.accept(call(1_100, CLIENT, true, preface.length(), 0, request, 40000, 443));
        tracer.accept(call(1_200, CLIENT, false, 0, preface.length() + request.length(), settings, 40000, 443));
        tracer.accept(call(1_300, CLIENT, false, settings.length(), preface.length() + request.length(), response, 40000, 443));
        tracer.finish();

        Exchange x = exchanges.getFirst();
        assertEquals(1, exchanges.size());
        assertEquals("2", x.request().version());
        assertEquals("/h2", x.request().target());
        assertEquals(200, x.response().statusCode());
        assertEquals(5, x.response().bodySize());
        assertEquals("https", x.http2().scheme());
        assertEquals(CLIENT, x.tls().clientProcess().pid());
        assertEquals(List.of(), muted, "HTTP/2 plaintext is decoded, so it is still copied");
        assertEquals(0, tracer.stats().nonHttpFlows());
        assertEquals(0, tracer.stats().parseErrors());
    }

    private static String iso(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @Test
    void theCiphertextOfAConnectionReportedFromTlsIsNeitherParsedNorCounted() {
        byte[] clientHello = {0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5};
        tracer.accept(new Segment(500, 1, LOCALHOST, LOCALHOST, 40000, 443, 100, 0, Segment.SYN, 0, new byte[0]));
        tracer.accept(new Segment(600, 1, LOCALHOST, LOCALHOST, 40000, 443, 101, 1, Segment.ACK, 10, clientHello));
        tracer.accept(call(1_000, CLIENT, true, 0, 0, REQUEST, 40000, 443));
        tracer.accept(new Segment(1_100, 1, LOCALHOST, LOCALHOST, 40000, 443, 111, 1, Segment.ACK, 10, clientHello));
        tracer.accept(call(2_000, CLIENT, false, 0, REQUEST.length(), RESPONSE, 40000, 443));
        tracer.finish();

        assertEquals(1, exchanges.size());
        assertEquals(0, tracer.stats().nonHttpFlows());
        assertEquals(0, tracer.stats().parseErrors());
        assertEquals(List.of("40000-443"), skipped, "the kernel stops copying its packets");
    }

    @Test
    void aConnectionClosedInThePacketPathBeforeItsTlsRecordsCameIsNotCountedAsNonHttp() {
        byte[] clientHello = {0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5};
        tracer.accept(new Segment(500, 1, LOCALHOST, LOCALHOST, 40000, 443, 100, 0, Segment.SYN, 0, new byte[0]));
        tracer.accept(new Segment(600, 1, LOCALHOST, LOCALHOST, 40000, 443, 101, 1, Segment.ACK, 10, clientHello));
        tracer.accept(new Segment(700, 1, LOCALHOST, LOCALHOST, 40000, 443, 111, 1, Segment.RST, 0, new byte[0]));
        assertEquals(1, tracer.stats().nonHttpFlows());

        tracer.accept(call(1_000, CLIENT, true, 0, 0, REQUEST, 40000, 443));

        assertEquals(0, tracer.stats().nonHttpFlows());
    }

    private static JsonNode json(Exchange x) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        JsonLinesWriter writer = new JsonLinesWriter(out, null);
        writer.exchange(x);
        writer.flush();
        String line = out.toString(StandardCharsets.UTF_8).strip();
        SchemaValidator.assertValid(line);
        JsonNode node = SchemaValidator.MAPPER.readTree(line);
        assertNotNull(node);
        return node;
    }
}
