package dev.httptrace.output;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.exchange.Exchange.Endpoint;
import dev.httptrace.exchange.Exchange.Header;
import dev.httptrace.exchange.Exchange.Request;
import dev.httptrace.exchange.Exchange.Response;
import dev.httptrace.exchange.Exchange.TraceInfo;

import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Builds Exchange values for writer tests. */
final class Fixtures {

    /** 2026-11-23T16:40:01.123456789Z */
    static final long T0 = nanos("2026-11-23T16:40:01.123456789Z");

    static long nanos(String instant) {
        Instant i = Instant.parse(instant);
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    /** An IP literal (never a DNS lookup: literals only) as bytes. */
    static byte[] ip(String literal) {
        byte[] b = InetAddress.ofLiteral(literal).getAddress();
        if (literal.contains(":") && b.length == 4) { // ::ffff:a.b.c.d comes back as IPv4
            byte[] m = new byte[16];
            m[10] = (byte) 0xff;
            m[11] = (byte) 0xff;
            System.arraycopy(b, 0, m, 12, 4);
            return m;
        }
        return b;
    }

    static Header h(String name, String value) {
        return new Header(name, value);
    }

    /** A mutable description of an exchange; {@link #build()} makes the record. */
    static final class X {
        int ifindex = 1;
        String client = "127.0.0.1";
        int clientPort = 54321;
        String server = "127.0.0.1";
        int serverPort = 8080;
        long requestTime = T0;
        String method = "GET";
        String target = "/hello?x=1";
        String version = "1.1";
        List<Header> requestHeaders = new ArrayList<>(List.of(
                h("Host", "127.0.0.1:8080"), h("User-Agent", "curl/8.0"), h("Accept", "*/*")));
        boolean requestTruncated;
        long requestBody;
        boolean answered = true;
        long responseDelay = 1_234_567;
        int status = 200;
        String reason = "OK";
        String responseVersion = "1.1";
        List<Header> responseHeaders = new ArrayList<>(List.of(
                h("Content-Type", "text/plain"), h("Content-Length", "5")));
        boolean responseTruncated;
        long responseBody = 5;
        String unanswered = "closed";
        boolean gap;
        long retransmissions;
        boolean upgraded;
        List<String> anomalies = List.of();
        String malformedRequest;
        Exchange.Http2 http2;

        X unanswered(String why) {
            answered = false;
            unanswered = why;
            return this;
        }

        /** A request line that could not be parsed, answered 400. */
        X malformed(String line) {
            malformedRequest = line;
            method = null;
            target = null;
            version = null;
            requestHeaders = new ArrayList<>();
            status = 400;
            reason = "Bad Request";
            return this;
        }

        /** HTTP/0.9: GET /path, answered by the raw bytes until the close. */
        X http09() {
            version = "0.9";
            requestHeaders = new ArrayList<>();
            status = 0;
            reason = "";
            responseVersion = "0.9";
            responseHeaders = new ArrayList<>();
            return this;
        }

        /** An HTTP/2 stream (no reason phrase), gRPC when {@code grpc} is given. */
        X h2(int streamId, Exchange.Grpc grpc, List<Header> trailers) {
            version = "2";
            responseVersion = "2";
            reason = null;
            http2 = new Exchange.Http2(streamId, "complete", null, null, "http", trailers, 0, false, true, 0,
                    requestTime + responseDelay + 500_000, grpc);
            return this;
        }

        Exchange build() {
            byte[] c = ip(client);
            byte[] s = ip(server);
            Request rq = new Request(requestTime, method, target, version, List.copyOf(requestHeaders),
                    requestTruncated, requestBody);
            Response rs = answered ? new Response(requestTime + responseDelay, status, reason, responseVersion,
                    List.copyOf(responseHeaders), responseTruncated, responseBody) : null;
            TraceInfo t = new TraceInfo(answered ? null : unanswered, gap, retransmissions, upgraded,
                    anomalies, malformedRequest);
            return new Exchange(ifindex, c.length == 16, new Endpoint(c, clientPort), new Endpoint(s, serverPort),
                    rq, rs, t, null, http2);
        }
    }

    static X x() {
        return new X();
    }

    private Fixtures() {}
}
