package dev.httptrace.jmh;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.exchange.Exchange.Endpoint;
import dev.httptrace.exchange.Exchange.Header;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The exchange every microbenchmark works on: an API request as a browser sends it and the
 * answer nginx gives with a 633-byte body (the size `make bench` serves).
 */
public final class TypicalExchange {
    public static final String REQUEST_HEAD = """
            GET /api/v1/orders?customer=4711&page=2 HTTP/1.1\r
            Host: shop.example.com\r
            User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r
            Accept: application/json\r
            Accept-Language: en-GB,en;q=0.5\r
            Accept-Encoding: gzip, deflate, br\r
            Connection: keep-alive\r
            Cookie: session=0123456789abcdef\r
            \r
            """;
    public static final String RESPONSE_HEAD = """
            HTTP/1.1 200 OK\r
            Server: nginx/1.22.1\r
            Date: Sun, 30 Nov 2026 22:00:00 GMT\r
            Content-Type: application/json\r
            Content-Length: 633\r
            Last-Modified: Sun, 30 Nov 2026 21:00:00 GMT\r
            Connection: keep-alive\r
            ETag: "692cbd50-279"\r
            Accept-Ranges: bytes\r
            \r
            """;
    public static final int BODY_SIZE = 633;

    public static final byte[] REQUEST = ascii(REQUEST_HEAD);
    public static final byte[] RESPONSE_HEAD_BYTES = ascii(RESPONSE_HEAD);
    /** Response head and body, as one segment carries them on loopback. */
    public static final byte[] RESPONSE;

    static {
        RESPONSE = new byte[RESPONSE_HEAD_BYTES.length + BODY_SIZE];
        System.arraycopy(RESPONSE_HEAD_BYTES, 0, RESPONSE, 0, RESPONSE_HEAD_BYTES.length);
        java.util.Arrays.fill(RESPONSE, RESPONSE_HEAD_BYTES.length, RESPONSE.length, (byte) 'x');
    }

    /** The exchange as the HTTP stage reports it, for the output writers. */
    public static Exchange exchange() {
        long start = 1_795_000_000_000_000_000L;
        var request = new Exchange.Request(start, "GET", "/api/v1/orders?customer=4711&page=2", "1.1",
                headers(REQUEST_HEAD), false, 0);
        var response = new Exchange.Response(start + 250_000, 200, "OK", "1.1", headers(RESPONSE_HEAD), false,
                BODY_SIZE);
        return new Exchange(1, false, new Endpoint(new byte[] {127, 0, 0, 1}, 40_000),
                new Endpoint(new byte[] {127, 0, 0, 1}, 80), request, response,
                new Exchange.TraceInfo(null, false, 0, false));
    }

    private static List<Header> headers(String head) {
        List<Header> headers = new ArrayList<>();
        String[] lines = head.split("\r\n");
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.add(new Header(lines[i].substring(0, colon), lines[i].substring(colon + 1).trim()));
        }
        return List.copyOf(headers);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private TypicalExchange() {}
}
