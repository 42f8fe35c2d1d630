package dev.httptrace.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.exchange.Exchange.Endpoint;
import dev.httptrace.export.KafkaCounters.Cause;
import dev.httptrace.output.JsonLinesWriter;
import dev.httptrace.output.OutputOptions;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The export without a broker (the client's MockProducer): what a message holds, that the
 * tracing thread never waits and drops what does not fit, and that every record ends in exactly
 * one counter. Against a real broker: {@code live/KafkaIT}.
 */
class KafkaExportTest {
    private static final long T0 = 1_700_000_000_000_000_000L;

    private static Exchange exchange(int clientPort, String target) {
        return new Exchange(1, false, new Endpoint(new byte[] {10, 0, 0, 1}, clientPort),
                new Endpoint(new byte[] {10, 0, 0, 2}, 80),
                new Exchange.Request(T0, "GET", target, "1.1", List.of(), false, 0),
                new Exchange.Response(T0 + 1000, 200, "OK", "1.1", List.of(), false, 2),
                new Exchange.TraceInfo(null, false, 0, false));
    }

    private static KafkaExport.Settings settings(int records, long bytes, List<String> report) {
        return new KafkaExport.Settings("127.0.0.1:9", "t", Map.of(), records, bytes, Duration.ofMillis(500), "web-1",
                i -> i == 1 ? "eth0" : null, report == null ? null : report::add, Duration.ofMillis(50));
    }

    private static MockProducer<byte[], byte[]> manual() {
        return new MockProducer<>(false, null, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Waits (bounded) until the sending thread has handed n records to the producer. */
    private static void awaitSent(MockProducer<byte[], byte[]> p, int n) throws InterruptedException {
        for (int i = 0; i < 500 && p.history().size() < n; i++) {
            Thread.sleep(10);
        }
        assertEquals(n, p.history().size());
    }

    @Test
    void theValueIsStdoutsLineTheKeyTheConnectionTheHeadersWhere() throws Exception {
        MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
                new ByteArraySerializer());
        KafkaExport export = new KafkaExport(settings(10, 1 << 20, null), producer);
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        JsonLinesWriter writer = new JsonLinesWriter(stdout, OutputOptions.defaults()).alsoTo(export);
        writer.exchange(exchange(40001, "/a"));
        writer.exchange(exchange(40002, "/b"));
        writer.flush();
        awaitSent(producer, 2);
        export.close();
        List<String> lines = stdout.toString(StandardCharsets.UTF_8).lines().toList();
        List<ProducerRecord<byte[], byte[]>> sent = producer.history();
        for (int i = 0; i < 2; i++) {
            ProducerRecord<byte[], byte[]> r = sent.get(i);
            assertEquals("t", r.topic());
            assertEquals(lines.get(i), new String(r.value(), StandardCharsets.UTF_8));
            assertEquals("web-1 10.0.0.1:" + (40001 + i) + " 10.0.0.2:80", new String(r.key(), StandardCharsets.UTF_8));
            assertArrayEquals("web-1".getBytes(StandardCharsets.UTF_8), r.headers().lastHeader("host").value());
            assertArrayEquals("eth0".getBytes(StandardCharsets.UTF_8), r.headers().lastHeader("interface").value());
        }
        KafkaCounters.Snapshot s = export.stats();
        assertEquals(2, s.records());
        assertEquals(2, s.delivered());
        assertEquals(0, s.notDelivered());
    }

    @Test
    void anUnknownInterfaceHasNoHeaderAndIpv6KeysAreBracketed() throws Exception {
        MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
                new ByteArraySerializer());
        KafkaExport export = new KafkaExport(settings(10, 1 << 20, null), producer);
        byte[] one = new byte[16];
        one[15] = 1;
        Exchange x = new Exchange(7, true, new Endpoint(one, 5000), new Endpoint(one, 8080),
                exchange(1, "/").request(), null, new Exchange.TraceInfo("closed", false, 0, false));
        byte[] line = "{}".getBytes(StandardCharsets.UTF_8);
        export.encoded(x, line, 0, line.length);
        awaitSent(producer, 1);
        export.close();
        ProducerRecord<byte[], byte[]> r = producer.history().getFirst();
        assertEquals("web-1 [0:0:0:0:0:0:0:1]:5000 [0:0:0:0:0:0:0:1]:8080", new String(r.key(), StandardCharsets.UTF_8));
        assertNull(r.headers().lastHeader("interface"));
    }

    @Test
    void aFullBufferDropsAndCountsWithoutWaiting() throws Exception {
        MockProducer<byte[], byte[]> producer = manual(); // nothing is acknowledged until the test says
        KafkaExport export = new KafkaExport(settings(3, 1 << 20, null), producer);
        byte[] line = "{\"x\":1}".getBytes(StandardCharsets.UTF_8);
        long t0 = System.nanoTime();
        for (int i = 0; i < 1000; i++) {
            export.encoded(exchange(40000 + i, "/"), line, 0, line.length);
        }
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "never waits");
        awaitSent(producer, 3);
        KafkaCounters.Snapshot s = export.stats();
        assertEquals(1000, s.records());
        assertEquals(997, s.failed(Cause.BUFFER_FULL));
        assertEquals(3, s.waiting());
        // Acknowledged: room again.
        while (producer.completeNext()) {
            // all three
        }
        export.encoded(exchange(1, "/"), line, 0, line.length);
        awaitSent(producer, 4);
        producer.completeNext();
        export.close();
        s = export.stats();
        assertEquals(1001, s.records());
        assertEquals(4, s.delivered());
        assertEquals(1001, s.delivered() + s.notDelivered());
    }

    @Test
    void theByteBoundCountsToo() throws Exception {
        MockProducer<byte[], byte[]> producer = manual();
        KafkaExport export = new KafkaExport(settings(1000, 100, null), producer);
        byte[] line = new byte[40];
        for (int i = 0; i < 5; i++) {
            export.encoded(exchange(40000 + i, "/"), line, 0, line.length);
        }
        awaitSent(producer, 2);
        assertEquals(3, export.stats().failed(Cause.BUFFER_FULL), "100 bytes hold two records of 40");
        byte[] big = new byte[101];
        export.encoded(exchange(1, "/"), big, 0, big.length);
        assertEquals(4, export.stats().failed(Cause.BUFFER_FULL), "a record larger than the buffer never fits");
        producer.completeNext();
        producer.completeNext();
        export.close();
    }

    @Test
    void refusalsAreCountedByCause() throws Exception {
        MockProducer<byte[], byte[]> producer = manual();
        List<String> report = new ArrayList<>();
        KafkaExport export = new KafkaExport(settings(100, 1 << 20, report), producer);
        byte[] line = "{}".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 5; i++) {
            export.encoded(exchange(40000 + i, "/"), line, 0, line.length);
        }
        awaitSent(producer, 5);
        producer.errorNext(new RecordTooLargeException("too large"));
        producer.errorNext(new TopicAuthorizationException("no"));
        producer.errorNext(new TimeoutException("expired"));
        producer.errorNext(new IllegalStateException("odd"));
        producer.completeNext();
        KafkaCounters.Snapshot s = export.stats();
        assertEquals(1, s.failed(Cause.TOO_LARGE));
        assertEquals(1, s.failed(Cause.NOT_AUTHORIZED));
        assertEquals(1, s.failed(Cause.TIMEOUT));
        assertEquals(1, s.failed(Cause.OTHER));
        assertEquals(1, s.delivered());
        assertEquals("1 too large, 1 not authorised, 1 timed out, 1 other errors", s.causes());
        for (int i = 0; i < 100 && report.isEmpty(); i++) {
            Thread.sleep(10);
        }
        export.close();
        assertTrue(report.stream().anyMatch(l -> l.contains("4 not delivered (1 too large, 1 not authorised")),
                report.toString());
    }

    @Test
    void aStallIsReportedThenTheRecovery() throws Exception {
        MockProducer<byte[], byte[]> producer = manual();
        List<String> report = java.util.Collections.synchronizedList(new ArrayList<>());
        KafkaExport export = new KafkaExport(settings(100, 1 << 20, report), producer);
        byte[] line = "{}".getBytes(StandardCharsets.UTF_8);
        export.encoded(exchange(1, "/"), line, 0, line.length);
        awaitSent(producer, 1);
        for (int i = 0; i < 200 && report.stream().noneMatch(l -> l.contains("nothing delivered")); i++) {
            Thread.sleep(10);
        }
        assertTrue(report.stream().anyMatch(l -> l.contains("1 waiting") && l.contains("nothing delivered")),
                report.toString());
        producer.completeNext();
        for (int i = 0; i < 200 && report.stream().noneMatch(l -> l.contains("delivering again")); i++) {
            Thread.sleep(10);
        }
        export.close();
        assertTrue(report.stream().anyMatch(l -> l.contains("1 delivered") && l.contains("delivering again")),
                report.toString());
    }
}
