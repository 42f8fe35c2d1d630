package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.httptrace.export.KafkaExport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --kafka against a real broker: a single-node KRaft broker started once for the class as a
 * child JVM ({@link KafkaBroker}), the tracer run as users run it, traffic on loopback, and two
 * consumers that owe nothing to httptrace (the Kafka Java client and Debian's kcat).
 */
class KafkaIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path brokerDir;
    @TempDir
    Path dir;
    static KafkaBroker broker;
    static TestServer server;

    @BeforeAll
    static void startBroker() throws Exception {
        if (!Live.isRoot()) {
            return; // each test says why it cannot run
        }
        broker = KafkaBroker.start(brokerDir);
        System.err.println("KafkaIT: broker started in " + broker.startMillis() + " ms");
        server = new TestServer("127.0.0.1");
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void root() {
        Live.requireRoot();
        Live.requireOrFail(Files.isExecutable(Path.of("/usr/bin/kcat")), "kcat is not installed (scripts/install-deps)");
    }

    @Test
    void everyExchangeArrivesAsStdoutPrintsItInConnectionOrder() throws Exception {
        String topic = "exchanges";
        broker.createTopic(topic, 3, Map.of());
        int connections = 6;
        int perConnection = 20;
        int total = connections * perConnection;
        try (var tracer = TracerProcess.start("-i lo -p " + server.port() + " -c " + total
                + " --stats json --ready-file " + dir.resolve("ready") + " --kafka " + broker.bootstrap() + " --kafka-topic " + topic, "")) {
            tracer.awaitReadyFile(dir.resolve("ready")); // --stats json: no "tracing on" line
            ExecutorService pool = Executors.newFixedThreadPool(connections);
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < connections; c++) {
                int conn = c;
                done.add(pool.submit(() -> {
                    try (Socket s = connect()) {
                        for (int i = 0; i < perConnection; i++) {
                            get(s, "/hello?c=" + conn + "&i=" + i);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertEquals(0, tracer.waitFor(60), String.join("\n", tracer.stderr()));
            List<String> stdout = tracer.stdout();
            assertEquals(total, stdout.size(), String.join("\n", tracer.stderr()));

            JsonNode stats = stats(tracer.stderr());
            assertEquals(total, stats.at("/kafka/records").asLong(), stats.toString());
            assertEquals(total, stats.at("/kafka/delivered").asLong(), stats.toString());
            assertEquals(0, stats.at("/kafka/not_delivered").asLong(), stats.toString());

            // The Java client: values are stdout's lines byte for byte; keys and headers say where.
            List<ConsumerRecord<byte[], byte[]>> records = broker.consume(topic, total, Duration.ofSeconds(30));
            assertEquals(total, records.size());
            String host = KafkaExport.localHostName();
            Map<String, List<String>> kafkaByKey = new LinkedHashMap<>();
            for (var r : records) {
                String value = new String(r.value(), StandardCharsets.UTF_8);
                String key = new String(r.key(), StandardCharsets.UTF_8);
                kafkaByKey.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
                assertEquals(host, header(r, KafkaExport.HOST));
                assertEquals("lo", header(r, KafkaExport.INTERFACE));
            }
            Map<String, List<String>> stdoutByKey = new LinkedHashMap<>();
            for (String line : stdout) {
                JsonNode j = JSON.readTree(line);
                String key = host + " " + j.at("/client/address").asText() + ":" + j.at("/client/port").asInt() + " "
                        + j.at("/server/address").asText() + ":" + j.at("/server/port").asInt();
                stdoutByKey.computeIfAbsent(key, k -> new ArrayList<>()).add(line);
            }
            assertEquals(connections, stdoutByKey.size(), stdoutByKey.keySet().toString());
            // Per connection: the same records in the same order (one key, one partition).
            assertEquals(stdoutByKey, kafkaByKey);

            // kcat, independently: the same values, and the same keys.
            List<String> kcat = kcat(topic, total);
            assertEquals(total, kcat.size(), String.join("\n", kcat));
            Map<String, List<String>> kcatByKey = new HashMap<>();
            for (String l : kcat) {
                String[] f = l.split("\t", 2);
                kcatByKey.computeIfAbsent(f[0], k -> new ArrayList<>()).add(f[1]);
            }
            assertEquals(new HashMap<>(stdoutByKey), kcatByKey);
        }
    }

    @Test
    void filtersApplyAndKafkaOnlyKeepsStdoutEmpty() throws Exception {
        String topic = "filtered";
        broker.createTopic(topic, 1, Map.of());
        try (var tracer = TracerProcess.start("-i lo -p " + server.port() + " -c 2 --status 404 --kafka-only"
                + " --kafka " + broker.bootstrap() + " --kafka-topic " + topic, "")) {
            tracer.awaitTracing();
            try (Socket s = connect()) {
                get(s, "/hello");
                get(s, "/missing-1");
                get(s, "/hello");
                get(s, "/missing-2");
            }
            assertEquals(0, tracer.waitFor(60), String.join("\n", tracer.stderr()));
            assertEquals(List.of(), tracer.stdout());
            List<String> paths = new ArrayList<>();
            for (var r : broker.consume(topic, 2, Duration.ofSeconds(20))) {
                JsonNode j = JSON.readTree(r.value());
                assertEquals(404, j.at("/http/response/status_code").asInt());
                paths.add(j.at("/url/path").asText());
            }
            assertEquals(List.of("/missing-1", "/missing-2"), paths);
            assertTrue(tracer.stderr().stream().anyMatch(l -> l.contains("kafka: 2 records, 2 delivered")),
                    String.join("\n", tracer.stderr()));
        }
    }

    @Test
    void startUpFailuresHaveTheirExitCodesBeforeTracing() throws Exception {
        int closed = KafkaBroker.closedPort();
        long t0 = System.nanoTime();
        Run unreachable = run("-i lo --kafka 127.0.0.1:" + closed + " --kafka-timeout 2s");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(10, unreachable.exit, unreachable.toString());
        assertEquals(List.of("httptrace: kafka: no broker of '127.0.0.1:" + closed + "' answered within 2 s"),
                unreachable.stderr, unreachable.toString());
        assertTrue(ms < 15_000, "bounded: " + ms + " ms");

        Run noTopic = run("-i lo --kafka " + broker.bootstrap() + " --kafka-topic no-such-topic");
        assertEquals(11, noTopic.exit, noTopic.toString());
        assertEquals(1, noTopic.stderr.size(), noTopic.toString());
        assertTrue(noTopic.stderr.getFirst().contains("topic 'no-such-topic' does not exist"), noTopic.toString());

        Run badName = run("-i lo --kafka no-such-host.invalid:9092 --kafka-timeout 2s");
        assertEquals(10, badName.exit, badName.toString());

        Run badProperty = run("-i lo --kafka " + broker.bootstrap() + " --kafka-property security.protocol=BOGUS");
        assertEquals(2, badProperty.exit, badProperty.toString());
    }

    @Test
    void saslScramWithAndWithoutTheRightCredentials() throws Exception {
        String topic = "sasl";
        broker.createTopic(topic, 1, Map.of());
        String sasl = " --kafka " + broker.saslBootstrap() + " --kafka-topic " + topic
                + " --kafka-property security.protocol=SASL_PLAINTEXT --kafka-property sasl.mechanism=SCRAM-SHA-256";
        String jaas = " --kafka-property 'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule"
                + " required username=\"" + KafkaBroker.USER + "\" password=\"%s\";'";

        Run refused = run("-i lo" + sasl + String.format(jaas, "wrong-password"));
        assertEquals(12, refused.exit, refused.toString());
        assertEquals(1, refused.stderr.size(), refused.toString());
        assertTrue(refused.stderr.getFirst().contains("refused"), refused.toString());

        try (var tracer = TracerProcess.start("-i lo -p " + server.port() + " -c 1" + sasl
                + String.format(jaas, KafkaBroker.PASSWORD), "")) {
            tracer.awaitTracing();
            try (Socket s = connect()) {
                get(s, "/hello?sasl");
            }
            assertEquals(0, tracer.waitFor(60), String.join("\n", tracer.stderr()));
            var records = broker.consume(topic, 1, Duration.ofSeconds(20));
            assertEquals(1, records.size());
            assertEquals(tracer.stdout().getFirst(), new String(records.getFirst().value(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void aRecordOverTheBrokersLimitIsCountedAsTooLarge() throws Exception {
        String topic = "small";
        broker.createTopic(topic, 1, Map.of("max.message.bytes", "2000"));
        try (var tracer = TracerProcess.start("-i lo -p " + server.port() + " -c 2 --headers all --stats json --ready-file " + dir.resolve("ready")
                + " --kafka " + broker.bootstrap() + " --kafka-topic " + topic, "")) {
            tracer.awaitReadyFile(dir.resolve("ready")); // --stats json: no "tracing on" line
            try (Socket s = connect()) {
                get(s, "/hello?small");
                get(s, "/hello?big", "X-Big: " + "b".repeat(4000));
            }
            assertEquals(13, tracer.waitFor(60), String.join("\n", tracer.stderr()));
            JsonNode stats = stats(tracer.stderr());
            assertEquals(2, stats.at("/kafka/records").asLong(), stats.toString());
            assertEquals(1, stats.at("/kafka/delivered").asLong(), stats.toString());
            assertEquals(1, stats.at("/kafka/causes/too_large").asLong(), stats.toString());
            assertEquals(1, stats.at("/kafka/not_delivered").asLong(), stats.toString());
            assertEquals(13, stats.at("/exit_code").asInt());
            assertTrue(stats.at("/errors").toString().contains("kafka: 1 of 2 records not delivered (1 too large)"),
                    stats.toString());
            assertEquals(1, tracer.stderr().size(), "--stats json: stderr is one JSON object");
            var records = broker.consume(topic, 1, Duration.ofSeconds(20));
            assertEquals(1, records.size());
            assertTrue(new String(records.getFirst().value(), StandardCharsets.UTF_8).contains("\"query\":\"small\""));
        }
    }

    /**
     * The broker killed mid-trace and started again: what the buffer held is delivered once it is
     * back, the overflow is counted exactly (records = delivered + dropped), tracing goes on, and
     * stderr says that nothing is being delivered while the broker is away.
     */
    @Test
    void brokerKilledAndRestartedMidTrace() throws Exception {
        String topic = "restart";
        broker.createTopic(topic, 2, Map.of());
        int before = 10;
        int whileDown = 100;
        int buffer = 40;
        int after = 10;
        int total = before + whileDown + after;
        try (var tracer = TracerProcess.start("-i lo -p " + server.port() + " -c " + total + " --stats json"
                + " --ready-file " + dir.resolve("ready") + " --kafka-buffer " + buffer + " --kafka-timeout 20s"
                + " --kafka " + broker.bootstrap() + " --kafka-topic " + topic, "")) {
            tracer.awaitReadyFile(dir.resolve("ready")); // --stats json: no "tracing on" line
            long started = System.nanoTime();
            try (Socket s = connect()) {
                for (int i = 0; i < before; i++) {
                    get(s, "/hello?before=" + i);
                }
            }
            assertEquals(before, broker.consume(topic, before, Duration.ofSeconds(20)).size());
            broker.kill();
            try (Socket s = connect()) {
                for (int i = 0; i < whileDown; i++) {
                    get(s, "/hello?down=" + i);
                }
            }
            // Long enough for the periodic line (every 10 s from the start) to say that nothing was
            // delivered in a whole period: the first period still saw the first records delivered.
            long away = 22_000 - (System.nanoTime() - started) / 1_000_000;
            if (away > 0) {
                Thread.sleep(away);
            }
            broker.restart();
            assertEquals(before + buffer, broker.consume(topic, before + buffer, Duration.ofSeconds(60)).size(),
                    "what the buffer held is delivered once the broker is back");
            try (Socket s = connect()) {
                for (int i = 0; i < after; i++) {
                    get(s, "/hello?after=" + i);
                }
            }
            int exit = tracer.waitFor(60);
            String err = String.join("\n", tracer.stderr());
            assertEquals(13, exit, err);
            assertEquals(total, tracer.stdout().size(), "tracing never stopped: " + err);
            JsonNode k = stats(tracer.stderr()).at("/kafka");
            long delivered = k.at("/delivered").asLong();
            long dropped = k.at("/causes/buffer_full").asLong();
            assertEquals(total, k.at("/records").asLong(), k.toString());
            assertEquals(total, delivered + dropped, "records = delivered + counted drops: " + k);
            assertEquals(k.at("/not_delivered").asLong(), dropped, "no other losses: " + k);
            assertEquals(whileDown - buffer, dropped, k.toString());
            // With --stats json the periodic lines are the summary's messages.
            assertTrue(stats(tracer.stderr()).at("/messages").toString().contains("nothing delivered in the last 10 s"), err);
            List<ConsumerRecord<byte[], byte[]>> got = broker.consume(topic, (int) delivered, Duration.ofSeconds(30));
            assertEquals(delivered, got.size(), "each delivered record once");
            List<String> values = got.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList();
            assertEquals(values.size(), values.stream().distinct().count(), "no duplicates");
            // The records kept are the first of the outage (the buffer filled, later ones were dropped).
            List<String> down = values.stream().filter(v -> v.contains("down=")).toList();
            assertEquals(buffer, down.size());
            for (int i = 0; i < buffer; i++) {
                int n = i;
                assertTrue(down.stream().anyMatch(v -> v.contains("\"query\":\"down=" + n + "\"")), "down=" + i);
            }
        }
    }

    /** The broker gone at exit: the flush waits at most --kafka-timeout, then counts what is left. */
    @Test
    void whatIsWaitingAtExitIsFlushedWithinTheTimeoutThenCounted() throws Exception {
        String topic = "at-exit";
        broker.createTopic(topic, 1, Map.of());
        try (var tracer = TracerProcess.start("-i lo -p " + server.port() + " -c 4 --stats json --ready-file " + dir.resolve("ready") + " --kafka-timeout 2s"
                + " --kafka " + broker.bootstrap() + " --kafka-topic " + topic, "")) {
            tracer.awaitReadyFile(dir.resolve("ready")); // --stats json: no "tracing on" line
            try (Socket s = connect()) {
                get(s, "/hello?up");
                assertEquals(1, broker.consume(topic, 1, Duration.ofSeconds(20)).size());
                broker.kill();
                for (int i = 0; i < 3; i++) {
                    get(s, "/hello?gone=" + i);
                }
            }
            long t0 = System.nanoTime();
            int exit = tracer.waitFor(60);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            String err = String.join("\n", tracer.stderr());
            assertEquals(13, exit, err);
            assertTrue(ms < 10_000, "the flush is bounded: " + ms + " ms");
            JsonNode k = stats(tracer.stderr()).at("/kafka");
            assertEquals(4, k.at("/records").asLong(), k.toString());
            assertEquals(1, k.at("/delivered").asLong(), k.toString());
            assertEquals(3, k.at("/causes/at_exit").asLong(), k.toString());
            assertEquals(3, k.at("/not_delivered").asLong(), k.toString());
        } finally {
            broker.restart();
        }
    }

    // ---------------------------------------------------------------- helpers

    private record Run(int exit, List<String> stdout, List<String> stderr) {}

    /** Runs the tracer to its end (a start-up failure: it must end by itself, having traced nothing). */
    private static Run run(String args) throws Exception {
        try (var tracer = TracerProcess.start(args, "")) {
            int exit = tracer.waitFor(60);
            List<String> err = tracer.stderr().stream().filter(l -> !l.startsWith("httptrace: building")
                    && !l.startsWith("httptrace: built")).toList();
            assertFalse(err.stream().anyMatch(l -> l.startsWith("httptrace: tracing on")), err.toString());
            return new Run(exit, tracer.stdout(), err);
        }
    }

    private static JsonNode stats(List<String> stderr) throws IOException {
        String last = stderr.stream().filter(l -> l.startsWith("{")).reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no --stats json line: " + stderr));
        return JSON.readTree(last);
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** kcat reads the topic from the beginning to its end: "key TAB value" per record. */
    private static List<String> kcat(String topic, int expected) throws Exception {
        Process p = new ProcessBuilder("kcat", "-C", "-b", broker.bootstrap(), "-t", topic, "-o", "beginning", "-e",
                "-q", "-f", "%k\\t%s\\n").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "kcat ended");
        return out.lines().filter(l -> !l.isEmpty()).collect(Collectors.toList());
    }

    private static Socket connect() throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setSoTimeout(20_000);
        s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
        return s;
    }

    /** One GET on a keep-alive connection; reads the whole response (Content-Length framed). */
    private static void get(Socket s, String target, String... headers) throws IOException {
        StringBuilder rq = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (String h : headers) {
            rq.append(h).append("\r\n");
        }
        OutputStream out = s.getOutputStream();
        out.write(rq.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        InputStream in = s.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in the response head");
            }
            head.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1
                    : b == '\r' ? 1 : 0;
        }
        String h = head.toString(StandardCharsets.ISO_8859_1).toLowerCase(java.util.Locale.ROOT);
        int i = h.indexOf("content-length:");
        int length = Integer.parseInt(h.substring(i + 15, h.indexOf('\r', i)).strip());
        in.readNBytes(length);
    }
}
