package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.httptrace.output.SchemaValidator;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Live and offline tracing agree: the same loopback traffic traced live ({@code ./httptrace -i lo})
 * and recorded by tcpdump, then read back ({@code ./httptrace -r}), gives the same exchanges
 * field for field, and both are exactly the exchanges the scripted cases call for.
 *
 * <p>The traffic is {@link MixedConversation}: every framing case on a raw connection, over
 * IPv4 and IPv6, plus ordinary curl and HttpClient exchanges. It is run once for the class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OfflineIT {
    /** tcpdump's clock (microseconds, its own time stamps) and the BPF clock differ slightly. */
    static final Duration CLOCK_TOLERANCE = Duration.ofMillis(50);

    private Path dir;
    private Path pcap;
    private MixedConversation conversation;
    private List<MixedConversation.Expected> expected;
    private List<String> liveLines;
    private List<String> offlineLines;
    private List<JsonNode> live;
    private List<JsonNode> offline;
    private List<String> liveStderr;

    @BeforeAll
    void traceTheMixedConversationLiveWhileTcpdumpRecordsIt() throws Exception {
        Live.requireRoot();
        dir = Files.createDirectories(Live.projectDir().resolve("target/offline-it"));
        pcap = dir.resolve("mixed.pcap");
        Files.deleteIfExists(pcap);
        conversation = new MixedConversation(false);
        String ports = conversation.ports().stream().map(String::valueOf).collect(Collectors.joining(","));
        try (Tcpdump tcpdump = Tcpdump.record(pcap, conversation.tcpdumpFilter());
             TracerProcess tracer = TracerProcess.start("-i lo -p " + ports + " -d 300s", "")) {
            tracer.awaitTracing();
            conversation.runScripted();
            conversation.runOrdinary(10);
            int total = conversation.expected().size() + conversation.ordinaryCount();
            Tcpdump.awaitLines(tracer, total, 30);
            tcpdump.stopAfterSentinel(conversation.sentinelTarget(), pcap);
            conversation.close();
            Tcpdump.interrupt(tracer);
            assertEquals(0, tracer.waitFor(30), "live tracer exit code; stderr: " + tracer.stderr());
            liveLines = tracer.stdout();
            liveStderr = tracer.stderr();
        }
        expected = conversation.expected();
        Files.write(dir.resolve("live.jsonl"), liveLines);
        offlineLines = Tcpdump.readCapture(pcap);
        Files.write(dir.resolve("offline.jsonl"), offlineLines);
        live = Tcpdump.parse(liveLines);
        offline = Tcpdump.parse(offlineLines);
    }

    @AfterAll
    void stopServers() throws Exception {
        if (conversation != null) {
            conversation.close();
        }
    }

    @Test
    void liveTraceReportsEachScriptedExchangeExactlyOnceAndNothingElse() {
        assertEquals(MixedConversation.sortedLines(expected),
                MixedConversation.sortedLines(live, conversation.scriptedPorts()),
                "live records of the scripted cases; stderr: " + liveStderr);
    }

    @Test
    void offlineTraceOfTheCaptureReportsEachScriptedExchangeExactlyOnceAndNothingElse() {
        assertEquals(MixedConversation.sortedLines(expected),
                MixedConversation.sortedLines(offline, conversation.scriptedPorts()));
    }

    @Test
    void ordinaryClientTrafficIsReportedOncePerRequestLiveAndOffline() {
        assertEquals(new TreeMap<>(conversation.ordinarySent()),
                MixedConversation.ordinaryKeys(live, conversation.ordinaryPorts()), "live");
        assertEquals(new TreeMap<>(conversation.ordinarySent()),
                MixedConversation.ordinaryKeys(offline, conversation.ordinaryPorts()), "offline");
    }

    @Test
    void liveAndOfflineRecordsAgreeFieldForFieldExceptInterfaceAndClocks() {
        Map<String, JsonNode> liveByKey = byConnectionAndOrder(live);
        Map<String, JsonNode> offlineByKey = byConnectionAndOrder(offline);
        assertEquals(liveByKey.keySet(), offlineByKey.keySet(), "the same exchanges on the same connections");
        List<String> differences = new ArrayList<>();
        for (var e : liveByKey.entrySet()) {
            JsonNode l = e.getValue();
            JsonNode o = offlineByKey.get(e.getKey());
            assertEquals("lo", l.at("/httptrace/interface").asText(), "live records name the interface");
            assertTrue(o.at("/httptrace/interface").isMissingNode(), "offline records have no interface");
            Duration start = Duration.between(Instant.parse(l.get("timestamp").asText()),
                    Instant.parse(o.get("timestamp").asText())).abs();
            if (start.compareTo(CLOCK_TOLERANCE) > 0) {
                differences.add(e.getKey() + ": start differs by " + start);
            }
            long latency = Math.abs(l.at("/event/duration").asLong() - o.at("/event/duration").asLong());
            if (latency > CLOCK_TOLERANCE.toNanos()) {
                differences.add(e.getKey() + ": latency differs by " + latency + " ns");
            }
            JsonNode lc = comparable(l);
            JsonNode oc = comparable(o);
            if (!lc.equals(oc)) {
                differences.add(e.getKey() + ":\n  live    " + lc + "\n  offline " + oc);
            }
        }
        assertEquals(List.of(), differences, "live tracer summary: " + liveStderr);
    }

    @Test
    void everyLiveAndOfflineLineMatchesTheSchema() {
        assertTrue(!liveLines.isEmpty() && !offlineLines.isEmpty());
        liveLines.forEach(SchemaValidator::assertValid);
        offlineLines.forEach(SchemaValidator::assertValid);
    }

    @Test
    void textThatLooksLikeHttpInsideBodiesAndAfterAnUpgradeMakesNoRecord() {
        for (List<JsonNode> records : List.of(live, offline)) {
            for (JsonNode r : records) {
                String target = r.at("/url/original").asText();
                assertTrue(!target.equals("/fake") && !target.equals("/after-upgrade"), "false record: " + r);
            }
        }
    }

    @Test
    void pcapngOfTheSameCaptureGivesTheSameLinesAsPcap() throws Exception {
        Path pcapng = dir.resolve("mixed.pcapng");
        Files.deleteIfExists(pcapng);
        Tcpdump.run(List.of("editcap", "-F", "pcapng", pcap.toString(), pcapng.toString()), 60);
        try (InputStream in = Files.newInputStream(pcapng)) {
            assertArrayEquals(new byte[] {0x0A, 0x0D, 0x0D, 0x0A}, in.readNBytes(4), "a pcapng section header block");
        }
        assertEquals(offlineLines, Tcpdump.readCapture(pcapng));
    }

    /** The record without what legitimately differs between a live trace and a capture file. */
    static JsonNode comparable(JsonNode record) {
        ObjectNode copy = record.deepCopy();
        copy.remove("timestamp");
        if (copy.get("event") instanceof ObjectNode event) {
            event.remove("duration"); // absent when unanswered
        }
        ObjectNode own = (ObjectNode) copy.get("httptrace");
        own.remove("interface");
        own.remove("retransmissions");
        return copy;
    }

    /** Records keyed by connection (client address and port, server port) and their order on it. */
    static Map<String, JsonNode> byConnectionAndOrder(List<JsonNode> records) {
        Map<String, Integer> seen = new LinkedHashMap<>();
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (JsonNode r : records) {
            String connection = "[" + r.at("/client/address").asText() + "]:" + r.at("/client/port").asInt()
                    + " -> " + r.at("/server/port").asInt();
            int n = seen.merge(connection, 1, Integer::sum);
            out.put(connection + " #" + n + " " + r.at("/http/request/method").asText() + " "
                    + r.at("/url/original").asText(), r);
        }
        return out;
    }
}
