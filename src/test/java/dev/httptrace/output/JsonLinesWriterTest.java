package dev.httptrace.output;

import com.fasterxml.jackson.databind.JsonNode;
import dev.httptrace.exchange.Exchange;
import dev.httptrace.exchange.Exchange.Endpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static dev.httptrace.output.Fixtures.h;
import static dev.httptrace.output.Fixtures.x;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonLinesWriterTest {

    private static final OutputOptions DEFAULT_LO = new OutputOptions(i -> i == 1 ? "lo" : null, false, Set.of());
    // Most tests are about how headers are written, so they ask for all of them.
    private static final OutputOptions LO = new OutputOptions(i -> i == 1 ? "lo" : null, false, Set.of(),
            HeaderSelection.ALL);

    /** Writes the exchanges, flushes, returns the output; every line is schema-checked. */
    static String write(OutputOptions o, Exchange... xs) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        JsonLinesWriter w = new JsonLinesWriter(out, o);
        for (Exchange x : xs) {
            w.exchange(x);
        }
        try {
            w.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String s = out.toString(StandardCharsets.UTF_8);
        assertTrue(s.endsWith("\n"), "each record ends with a newline");
        assertEquals(xs.length, s.split("\n", -1).length - 1, "one line per record");
        SchemaValidator.assertAllValid(s);
        return s;
    }

    static JsonNode json(OutputOptions o, Exchange x) {
        try {
            return SchemaValidator.MAPPER.readTree(write(o, x));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode json(Exchange x) {
        return json(LO, x);
    }

    static JsonNode json(Consumer<Fixtures.X> change) {
        Fixtures.X f = x();
        change.accept(f);
        return json(f.build());
    }

    @Test
    void answeredIpv4GetIsExactlyTheDocumentedRecord() {
        String expected = """
                {"timestamp":"2026-11-23T16:40:01.123456Z","event":{"duration":1234567},\
                "network":{"transport":"tcp","type":"ipv4","protocol":{"name":"http","version":"1.1"}},\
                "client":{"address":"127.0.0.1","port":54321},"server":{"address":"127.0.0.1","port":8080},\
                "url":{"original":"/hello?x=1","path":"/hello","query":"x=1"},\
                "user_agent":{"original":"curl/8.0"},\
                "http":{"request":{"method":"GET","headers":{"host":"127.0.0.1:8080","user-agent":"curl/8.0"},"body":{"size":0}},\
                "response":{"status_code":200,"reason":"OK","headers":{"content-type":"text/plain","content-length":"5"},"body":{"size":5}}},\
                "httptrace":{"schema_version":1,"interface":"lo","gap":false,"truncated":false,"upgraded":false,"retransmissions":0}}
                """;
        assertEquals(expected, write(DEFAULT_LO, x().build()), "Accept is not in the default header set");
    }

    @Test
    void anHttp2StreamIsTheSameRecordWithItsOwnFieldsAndGrpcsRpcAttributes() {
        Fixtures.X f = x().h2(5, new Exchange.Grpc("demo.Echo", "Say", 5, "no%20such", 1, 2),
                List.of(h("grpc-status", "5"), h("grpc-message", "no%20such")));
        f.target = "/demo.Echo/Say";
        f.requestHeaders = new ArrayList<>(List.of(h("host", "h:1"), new Exchange.Header("x-api-key", "k", true)));
        JsonNode j = json(f.build());

        assertEquals("2", j.at("/network/protocol/version").asText());
        assertEquals("http", j.at("/url/scheme").asText(), ":scheme");
        assertTrue(j.at("/http/response/reason").isMissingNode(), "HTTP/2 has no reason phrase");
        assertEquals("[REDACTED]", j.at("/http/request/headers/x-api-key").asText(), "never-indexed: sensitive");
        assertEquals("5", j.at("/http/response/trailers/grpc-status").asText());
        assertEquals("grpc", j.at("/rpc/system").asText());
        assertEquals("demo.Echo", j.at("/rpc/service").asText());
        assertEquals("Say", j.at("/rpc/method").asText());
        assertEquals(5, j.at("/rpc/grpc/status_code").asInt());
        assertEquals("no%20such", j.at("/rpc/grpc/message").asText());
        assertEquals(1, j.at("/rpc/grpc/request_messages").asInt());
        assertEquals(2, j.at("/rpc/grpc/response_messages").asInt());
        assertEquals(5, j.at("/httptrace/http2/stream_id").asInt());
        assertEquals("complete", j.at("/httptrace/http2/end").asText());
        assertEquals(1_234_567 + 500_000, j.at("/httptrace/http2/end_duration").asLong());
        assertEquals(0, j.at("/httptrace/http2/unknown_fields").asInt());
        assertTrue(j.at("/httptrace/http2/request_headers_seen").asBoolean());
        assertTrue(j.at("/httptrace/http2/pushed_by").isMissingNode());
        JsonNode shown = json(new OutputOptions(i -> "lo", true, Set.of(), HeaderSelection.ALL), f.build());
        assertEquals("k", shown.at("/http/request/headers/x-api-key").asText(), "--show-secrets shows it");
    }

    @Test
    void anHttp2StreamResetBeforeItsResponseSaysWhoResetItAndWhy() {
        Fixtures.X f = x().h2(3, null, List.of()).unanswered("rst_stream");
        f.http2 = new Exchange.Http2(3, "rst_stream", new Exchange.Reset(8, "CANCEL", "client"), null, null, List.of(),
                2, true, true, 0, f.requestTime + 100, null);
        JsonNode j = json(f.build());

        assertEquals("rst_stream", j.at("/httptrace/unanswered").asText());
        assertEquals("CANCEL", j.at("/httptrace/http2/rst_stream/error").asText());
        assertEquals(8, j.at("/httptrace/http2/rst_stream/code").asInt());
        assertEquals("client", j.at("/httptrace/http2/rst_stream/by").asText());
        assertEquals(2, j.at("/httptrace/http2/unknown_fields").asInt());
        assertTrue(j.at("/httptrace/http2/joined_mid_stream").asBoolean());
        assertTrue(j.at("/rpc").isMissingNode());
        assertTrue(j.at("/url/scheme").isMissingNode(), ":scheme unknown: not invented");
    }

    @Test
    void defaultHeadersAreTheUsefulSetIncludingTraceAndRequestIds() {
        Fixtures.X f = x();
        f.requestHeaders = new ArrayList<>(List.of(h("Host", "h"), h("Accept", "*/*"), h("TraceParent", "00-abc-def-01"),
                h("X-Request-Id", "r1"), h("X-B3-TraceId", "b3"), h("X-Amzn-Trace-Id", "Root=1"), h("Accept-Language", "en"),
                h("Authorization", "Bearer s"), h("User-Agent", "ua")));
        f.responseHeaders = new ArrayList<>(List.of(h("Location", "/next"), h("Content-Encoding", "gzip"),
                h("Transfer-Encoding", "chunked"), h("Server", "nginx"), h("Set-Cookie", "a=b"), h("X-Correlation-Id", "c")));
        JsonNode j = json(DEFAULT_LO, f.build());
        assertEquals(SchemaValidator.MAPPER.createObjectNode().put("host", "h").put("traceparent", "00-abc-def-01")
                .put("x-request-id", "r1").put("x-b3-traceid", "b3").put("x-amzn-trace-id", "Root=1").put("user-agent", "ua"),
                j.at("/http/request/headers"));
        assertEquals(SchemaValidator.MAPPER.createObjectNode().put("location", "/next").put("content-encoding", "gzip")
                .put("transfer-encoding", "chunked").put("x-correlation-id", "c"), j.at("/http/response/headers"));
    }

    @Test
    void headerSelectionNamesNoneOrDefaultPlusNamesAndRedactionStillApplies() {
        Fixtures.X f = x();
        f.requestHeaders.add(h("Authorization", "Bearer s"));
        f.requestHeaders.add(h("X-Tenant", "t1"));
        JsonNode named = json(new OutputOptions(null, false, Set.of(),
                HeaderSelection.parse(List.of("X-Tenant", "authorization"))), f.build());
        assertEquals(SchemaValidator.MAPPER.createObjectNode().put("authorization", "[REDACTED]").put("x-tenant", "t1"),
                named.at("/http/request/headers"));
        assertEquals(0, named.at("/http/response/headers").size());
        assertEquals("curl/8.0", named.at("/user_agent/original").asText(), "user_agent.original is not a header map");

        JsonNode plus = json(new OutputOptions(null, false, Set.of(), HeaderSelection.parse(List.of("default", "x-tenant"))),
                f.build());
        assertEquals("t1", plus.at("/http/request/headers/x-tenant").asText());
        assertEquals("127.0.0.1:8080", plus.at("/http/request/headers/host").asText());
        assertTrue(plus.at("/http/request/headers/accept").isMissingNode());

        JsonNode none = json(new OutputOptions(null, false, Set.of(), HeaderSelection.NONE), f.build());
        assertEquals(0, none.at("/http/request/headers").size());
        assertEquals(0, none.at("/http/response/headers").size());

        JsonNode all = json(new OutputOptions(null, true, Set.of(), HeaderSelection.ALL), f.build());
        assertEquals("Bearer s", all.at("/http/request/headers/authorization").asText());
        assertEquals("*/*", all.at("/http/request/headers/accept").asText());
    }

    @Test
    void badHeaderSelectionsSayWhy() {
        assertEquals("--headers: 'x y' is not a header name (or default, all, none)",
                assertThrows(IllegalArgumentException.class, () -> HeaderSelection.parse(List.of("x y"))).getMessage());
        assertEquals("--headers: 'all' and 'none' cannot be combined with other values",
                assertThrows(IllegalArgumentException.class, () -> HeaderSelection.parse(List.of("all", "host"))).getMessage());
        assertThrows(IllegalArgumentException.class, () -> HeaderSelection.parse(List.of("none", "all")));
        assertThrows(IllegalArgumentException.class, () -> HeaderSelection.parse(List.of("")));
    }

    @Test
    void numbersAreJsonNumbers() {
        JsonNode j = json(x().build());
        assertTrue(j.at("/event/duration").isIntegralNumber());
        assertTrue(j.at("/client/port").isIntegralNumber());
        assertTrue(j.at("/http/response/status_code").isIntegralNumber());
        assertTrue(j.at("/http/request/body/size").isIntegralNumber());
        assertTrue(j.at("/httptrace/schema_version").isIntegralNumber());
        assertTrue(j.at("/httptrace/retransmissions").isIntegralNumber());
    }

    @ParameterizedTest
    @CsvSource({
            "::1, ::1",
            "2001:db8::1, 2001:db8::1",
            "2001:0db8:0000:0000:0000:0000:0000:0001, 2001:db8::1",
            "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",      // first of two equal runs
            "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",   // a single zero group is not compressed
            "2001:db8:0:0:1:0:0:0, 2001:db8:0:0:1::",       // longest run wins
            "fe80::abcd:ef01, fe80::abcd:ef01",
            "ABCD:EF01:2345:6789:ABCD:EF01:2345:6789, abcd:ef01:2345:6789:abcd:ef01:2345:6789",
            "::, ::",
            "1::, 1::",
            "::ffff:192.0.2.1, ::ffff:192.0.2.1",
    })
    void ipv6AddressesAreRfc5952(String literal, String canonical) {
        JsonNode j = json(f -> {
            f.client = literal;
            f.server = "::1";
            f.serverPort = 443;
        });
        assertEquals("ipv6", j.at("/network/type").asText());
        assertEquals(canonical, j.at("/client/address").asText());
        assertEquals("::1", j.at("/server/address").asText());
        assertEquals(443, j.at("/server/port").asInt());
    }

    @Test
    void ipv4Edges() {
        JsonNode j = json(f -> {
            f.client = "0.0.0.0";
            f.clientPort = 0;
            f.server = "255.255.255.255";
            f.serverPort = 65535;
        });
        assertEquals("ipv4", j.at("/network/type").asText());
        assertEquals("0.0.0.0", j.at("/client/address").asText());
        assertEquals(0, j.at("/client/port").asInt());
        assertEquals("255.255.255.255", j.at("/server/address").asText());
        assertEquals(65535, j.at("/server/port").asInt());
    }

    @ParameterizedTest
    @ValueSource(strings = {"closed", "timeout", "capture_end", "gap"})
    void unansweredHasNoResponseNoDurationAndSaysWhy(String why) {
        JsonNode j = json(x().unanswered(why).build());
        assertTrue(j.at("/http/response").isMissingNode());
        assertTrue(j.at("/event").isMissingNode());
        assertEquals(why, j.at("/httptrace/unanswered").asText());
        assertEquals("GET", j.at("/http/request/method").asText());
    }

    @Test
    void answeredHasNoUnansweredEvenIfTheTraceInfoSaysSo() {
        Exchange e = x().build();
        Exchange odd = new Exchange(e.ifindex(), e.ipv6(), e.client(), e.server(), e.request(), e.response(),
                new Exchange.TraceInfo("closed", false, 0, false));
        assertTrue(json(odd).at("/httptrace/unanswered").isMissingNode());
    }

    @Test
    void anomaliesAndMalformedRequestAreWrittenOnlyWhenThereAreAny() {
        JsonNode plain = json(x().build());
        assertTrue(plain.at("/httptrace/anomalies").isMissingNode());
        assertTrue(plain.at("/httptrace/malformed_request").isMissingNode());
        JsonNode j = json(f -> f.anomalies = List.of("request.content_length_invalid", "response.body_incomplete"));
        assertEquals("[\"request.content_length_invalid\",\"response.body_incomplete\"]", j.at("/httptrace/anomalies").toString());
    }

    @Test
    void malformedRequestHasANullMethodNoUrlNoVersionAndTheRawLine() {
        JsonNode j = json(f -> f.malformed("\u0016\u0003\u0001 junk"));
        assertTrue(j.at("/http/request/method").isNull());
        assertTrue(j.at("/url").isMissingNode());
        assertTrue(j.at("/network/protocol/version").isMissingNode());
        assertEquals("\u0016\u0003\u0001 junk", j.at("/httptrace/malformed_request").asText());
        assertEquals(400, j.at("/http/response/status_code").asInt());
    }

    @Test
    void http09HasVersion09AndAResponseWithoutStatus() {
        JsonNode j = json(f -> f.http09());
        assertEquals("0.9", j.at("/network/protocol/version").asText());
        assertTrue(j.at("/http/response/status_code").isMissingNode());
        assertTrue(j.at("/http/response/reason").isMissingNode());
        assertEquals(5, j.at("/http/response/body/size").asInt());
    }

    @Test
    void absoluteFormTarget() {
        JsonNode u = json(f -> f.target = "HTTP://Example.com:8080/a/b?x=1&y").at("/url");
        assertEquals("HTTP://Example.com:8080/a/b?x=1&y", u.at("/original").asText());
        assertEquals("http", u.at("/scheme").asText());
        assertEquals("Example.com", u.at("/domain").asText());
        assertEquals(8080, u.at("/port").asInt());
        assertTrue(u.at("/port").isIntegralNumber());
        assertEquals("/a/b", u.at("/path").asText());
        assertEquals("x=1&y", u.at("/query").asText());
    }

    @Test
    void absoluteFormWithoutPathPortOrWithIpv6Literal() {
        JsonNode u = json(f -> f.target = "http://example.com").at("/url");
        assertEquals("example.com", u.at("/domain").asText());
        assertTrue(u.at("/port").isMissingNode());
        assertTrue(u.at("/path").isMissingNode());
        assertTrue(u.at("/query").isMissingNode());

        u = json(f -> f.target = "http://[::1]:8080/x").at("/url");
        assertEquals("[::1]", u.at("/domain").asText());
        assertEquals(8080, u.at("/port").asInt());
        assertEquals("/x", u.at("/path").asText());

        u = json(f -> f.target = "http://example.com:99999/?q").at("/url"); // invalid port: left out
        assertEquals("example.com", u.at("/domain").asText());
        assertTrue(u.at("/port").isMissingNode());
        assertEquals("/", u.at("/path").asText());
        assertEquals("q", u.at("/query").asText());
    }

    @Test
    void absoluteFormUserinfoIsRedactedUnlessSecretsShown() {
        JsonNode u = json(f -> f.target = "http://alice:s3cret@example.com/p").at("/url");
        assertEquals("http://REDACTED:REDACTED@example.com/p", u.at("/original").asText());
        assertEquals("example.com", u.at("/domain").asText());
        assertEquals("/p", u.at("/path").asText());

        u = json(f -> f.target = "http://alice@example.com/p").at("/url");
        assertEquals("http://REDACTED@example.com/p", u.at("/original").asText());

        Fixtures.X f = x();
        f.target = "http://alice:s3cret@example.com/p";
        u = json(new OutputOptions(null, true, Set.of()), f.build()).at("/url");
        assertEquals("http://alice:s3cret@example.com/p", u.at("/original").asText());
    }

    @Test
    void connectAuthorityForm() {
        JsonNode u = json(f -> {
            f.method = "CONNECT";
            f.target = "example.com:443";
        }).at("/url");
        assertEquals("example.com:443", u.at("/original").asText());
        assertEquals("example.com", u.at("/domain").asText());
        assertEquals(443, u.at("/port").asInt());
        assertTrue(u.at("/path").isMissingNode());
        assertTrue(u.at("/scheme").isMissingNode());
    }

    @Test
    void asteriskFormHasOnlyTheOriginal() {
        JsonNode u = json(f -> {
            f.method = "OPTIONS";
            f.target = "*";
        }).at("/url");
        assertEquals(1, u.size());
        assertEquals("*", u.at("/original").asText());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "null", value = {
            "/|/|null",
            "/a?|/a|null",
            "/?x|/|x",
            "/a/b?c=d?e|/a/b|c=d?e",
            "/caf%C3%A9?q=%20|/caf%C3%A9|q=%20",
    })
    void originFormPathAndQuery(String target, String path, String query) {
        JsonNode u = json(f -> f.target = target).at("/url");
        assertEquals(target, u.at("/original").asText());
        assertEquals(path, u.at("/path").asText());
        if (query == null) {
            assertTrue(u.at("/query").isMissingNode());
        } else {
            assertEquals(query, u.at("/query").asText());
        }
    }

    @Test
    void longTargetsAreWrittenWhole() {
        String longPath = "/" + "a".repeat(40_000);
        JsonNode u = json(f -> f.target = longPath + "?" + "b".repeat(300)).at("/url");
        assertEquals(longPath, u.at("/path").asText());
        assertEquals("b".repeat(300), u.at("/query").asText());
    }

    @Test
    void secretsAreRedactedByDefault() {
        Fixtures.X f = x();
        f.requestHeaders.add(h("Authorization", "Bearer abc"));
        f.requestHeaders.add(h("proxy-authorization", "Basic xyz"));
        f.requestHeaders.add(h("Cookie", "sid=1"));
        f.requestHeaders.add(h("X-Api-Key", "k"));
        f.responseHeaders.add(h("Set-Cookie", "sid=2"));
        f.responseHeaders.add(h("Set-Cookie", "theme=dark"));
        JsonNode j = json(f.build());
        JsonNode rq = j.at("/http/request/headers");
        assertEquals("[REDACTED]", rq.get("authorization").asText());
        assertEquals("[REDACTED]", rq.get("proxy-authorization").asText());
        assertEquals("[REDACTED]", rq.get("cookie").asText());
        assertEquals("k", rq.get("x-api-key").asText());
        assertEquals("[REDACTED]", j.at("/http/response/headers/set-cookie").asText());

        // Extra names, given in any case.
        JsonNode j2 = json(new OutputOptions(null, false, Set.of("X-API-KEY", "user-agent"), HeaderSelection.ALL), f.build());
        assertEquals("[REDACTED]", j2.at("/http/request/headers/x-api-key").asText());
        assertEquals("[REDACTED]", j2.at("/http/request/headers/user-agent").asText());
        assertEquals("[REDACTED]", j2.at("/user_agent/original").asText());
        assertEquals("[REDACTED]", j2.at("/http/request/headers/authorization").asText());

        // showSecrets disables all of it, extra names included.
        JsonNode j3 = json(new OutputOptions(null, true, Set.of("x-api-key"), HeaderSelection.ALL), f.build());
        assertEquals("Bearer abc", j3.at("/http/request/headers/authorization").asText());
        assertEquals("Basic xyz", j3.at("/http/request/headers/proxy-authorization").asText());
        assertEquals("sid=1", j3.at("/http/request/headers/cookie").asText());
        assertEquals("k", j3.at("/http/request/headers/x-api-key").asText());
        assertEquals("sid=2, theme=dark", j3.at("/http/response/headers/set-cookie").asText());
    }

    @Test
    void repeatedHeadersAreJoinedInOrderUnderTheLowerCaseName() {
        Fixtures.X f = x();
        f.requestHeaders = new ArrayList<>(List.of(
                h("Accept", "text/html"), h("X-One", "1"), h("accept", "application/json"),
                h("ACCEPT", ""), h("X-Two", "2"), h("Accept", "*/*")));
        String line = write(LO, f.build());
        assertTrue(line.contains(
                "\"headers\":{\"accept\":\"text/html, application/json, , */*\",\"x-one\":\"1\",\"x-two\":\"2\"}"),
                line);
    }

    @Test
    void noHeadersIsAnEmptyMapAndNoUserAgent() {
        JsonNode j = json(f -> {
            f.requestHeaders = new ArrayList<>();
            f.responseHeaders = new ArrayList<>();
        });
        assertTrue(j.at("/user_agent").isMissingNode());
        assertEquals(0, j.at("/http/request/headers").size());
        assertTrue(j.at("/http/request/headers").isObject());
        assertTrue(j.at("/http/response/headers").isObject());
    }

    @Test
    void twoUserAgentsAreJoined() {
        JsonNode j = json(f -> f.requestHeaders.add(h("user-agent", "second")));
        assertEquals("curl/8.0, second", j.at("/user_agent/original").asText());
    }

    @Test
    void unicodeIsUtf8AndUnpairedSurrogatesAreReplaced() {
        Fixtures.X f = x();
        f.requestHeaders.add(h("X-Text", "café ☕ \uD83D\uDE00"));           // valid: written as UTF-8
        f.requestHeaders.add(h("X-Bad", "a\uFFFDb"));                         // parser's replacement char
        f.requestHeaders.add(h("X-Lone", "x\uD800y\uDC00z"));                 // unpaired surrogates
        f.requestHeaders.add(h("X-Ctl", "tab\there\u0001\u007f\"q\"\\"));    // escaped by JSON
        f.requestHeaders.add(h("X-N\u00c4ME", "v"));
        f.target = "/caf\u00e9/\uD83D\uDE00?q=\uDBFF";
        String line = write(LO, f.build());
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        assertTrue(new String(bytes, StandardCharsets.UTF_8).contains("\uD83D\uDE00"));
        assertFalse(line.contains("\\uD83D"), "emoji written as 4-byte UTF-8, not escaped surrogates: " + line);
        JsonNode j;
        try {
            j = SchemaValidator.MAPPER.readTree(line);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JsonNode hs = j.at("/http/request/headers");
        assertEquals("café ☕ \uD83D\uDE00", hs.get("x-text").asText());
        assertEquals("a\uFFFDb", hs.get("x-bad").asText());
        assertEquals("x\uFFFDy\uFFFDz", hs.get("x-lone").asText());
        assertEquals("tab\there\u0001\u007f\"q\"\\", hs.get("x-ctl").asText());
        assertEquals("v", hs.get("x-n\u00e4me").asText());
        assertEquals("/caf\u00e9/\uD83D\uDE00?q=\uFFFD", j.at("/url/original").asText());
        assertEquals("q=\uFFFD", j.at("/url/query").asText());
    }

    @Test
    void traceFlags() {
        JsonNode j = json(f -> {
            f.gap = true;
            f.upgraded = true;
            f.retransmissions = 7;
            f.responseTruncated = true;
            f.status = 101;
            f.reason = "Switching Protocols";
        });
        JsonNode t = j.at("/httptrace");
        assertTrue(t.get("gap").asBoolean());
        assertTrue(t.get("upgraded").asBoolean());
        assertTrue(t.get("truncated").asBoolean());
        assertEquals(7, t.get("retransmissions").asLong());
        assertEquals(101, j.at("/http/response/status_code").asInt());

        assertTrue(json(f -> f.requestTruncated = true).at("/httptrace/truncated").asBoolean());
        assertFalse(json(f -> {}).at("/httptrace/truncated").asBoolean());
    }

    @Test
    void interfaceIsAbsentWhenUnknownAndResolvedOnlyOnChange() {
        assertTrue(json(OutputOptions.defaults(), x().build()).at("/httptrace/interface").isMissingNode());
        JsonNode j = json(f -> f.ifindex = 2); // LO resolves only 1
        assertTrue(j.at("/httptrace/interface").isMissingNode());

        AtomicInteger calls = new AtomicInteger();
        OutputOptions counting = new OutputOptions(i -> {
            calls.incrementAndGet();
            return "if" + i;
        }, false, Set.of());
        Fixtures.X a = x();
        Fixtures.X b = x();
        b.ifindex = 3;
        String out = write(counting, a.build(), a.build(), a.build(), b.build(), b.build());
        assertEquals(2, calls.get());
        assertTrue(out.contains("\"interface\":\"if3\""));
    }

    @Test
    void durationAndTimestamp() {
        JsonNode j = json(f -> {
            f.requestTime = Fixtures.nanos("1999-12-31T23:59:59.000001999Z");
            f.responseDelay = 86_400_000_000_000L;
        });
        assertEquals("1999-12-31T23:59:59.000001Z", j.at("/timestamp").asText());
        assertEquals(86_400_000_000_000L, j.at("/event/duration").asLong());

        JsonNode neg = json(f -> f.responseDelay = -5); // clock oddity: never a negative duration
        assertEquals(0, neg.at("/event/duration").asLong());

        assertEquals("1970-01-01T00:00:00.000000Z", json(f -> f.requestTime = 0).at("/timestamp").asText());
    }

    @Test
    void versionsReasonAndBodySizes() {
        JsonNode j = json(f -> {
            f.version = "1.0";
            f.responseVersion = "1.1";
            f.reason = "";
            f.status = 404;
            f.requestBody = 3_000_000_000L;
            f.responseBody = 0;
            f.method = "PROPFIND";
        });
        assertEquals("1.0", j.at("/network/protocol/version").asText());
        assertEquals("", j.at("/http/response/reason").asText());
        assertEquals(404, j.at("/http/response/status_code").asInt());
        assertEquals(3_000_000_000L, j.at("/http/request/body/size").asLong());
        assertEquals("PROPFIND", j.at("/http/request/method").asText());
    }

    @Test
    void exchangeDoesNotFlushFlushDoes() throws IOException {
        AtomicInteger flushes = new AtomicInteger();
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        OutputStream out = new FilterOutputStream(sink) {
            @Override
            public void flush() throws IOException {
                flushes.incrementAndGet();
                super.flush();
            }
        };
        JsonLinesWriter w = new JsonLinesWriter(out, LO);
        for (int i = 0; i < 1000; i++) { // more than one drain's worth
            w.exchange(x().build());
        }
        assertEquals(0, flushes.get());
        w.flush();
        assertEquals(1, flushes.get());
        String s = sink.toString(StandardCharsets.UTF_8);
        assertEquals(1000, s.lines().count());
        assertEquals(1, s.lines().distinct().count());
        SchemaValidator.assertValid(s.lines().findFirst().orElseThrow());
    }

    @Test
    void aBadExchangeWritesNothingAndTheWriterGoesOn() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        JsonLinesWriter w = new JsonLinesWriter(out, LO);
        w.exchange(x().build());
        Exchange good = x().build();
        Exchange bad = new Exchange(1, false, new Endpoint(new byte[5], 1), good.server(), good.request(),
                good.response(), good.trace());
        assertThrows(IllegalArgumentException.class, () -> w.exchange(bad));
        w.exchange(x().unanswered("timeout").build());
        w.flush();
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(2, lines.size());
        lines.forEach(SchemaValidator::assertValid);
    }

    @Test
    void aClosedStreamSurfacesAsIOException() {
        OutputStream closed = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Broken pipe");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("Broken pipe");
            }
        };
        JsonLinesWriter w = new JsonLinesWriter(closed, LO);
        w.exchange(x().build()); // buffered: no I/O yet
        assertThrows(IOException.class, w::flush);
        JsonLinesWriter w2 = new JsonLinesWriter(closed, LO);
        assertThrows(UncheckedIOException.class, () -> {
            for (int i = 0; i < 10_000; i++) {
                w2.exchange(x().build());
            }
        });
        // A PrintStream (System.out) swallows errors; the writer still reports them.
        JsonLinesWriter w3 = new JsonLinesWriter(new PrintStream(closed, true), LO);
        w3.exchange(x().build());
        assertThrows(IOException.class, w3::flush);
    }
}
