package dev.httptrace.live;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A single-node Apache Kafka broker (KRaft: broker and controller in one JVM) for the tests, run
 * as a child JVM with a small heap from the test class path (Kafka from Maven Central, test
 * scope), its storage formatted in a directory of the test's. Listeners on loopback:
 * PLAINTEXT, SASL_PLAINTEXT with SCRAM-SHA-256 (user {@value #USER}, password
 * {@value #PASSWORD}) and the controller's. Ports are picked free and tried again on a bind
 * failure. {@link #kill} and {@link #restart} keep the storage and the ports.
 */
final class KafkaBroker implements AutoCloseable {
    static final String USER = "tracer";
    static final String PASSWORD = "tracer-secret";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final Path dir;
    private final String clusterId = Uuid.randomUuid().toString();
    private int plainPort;
    private int saslPort;
    private int controllerPort;
    private Process process;
    private long startedMillis;

    private KafkaBroker(Path dir) {
        this.dir = dir;
    }

    /** Formats and starts a broker in dir; ports that turn out taken are replaced (up to 5 tries). */
    static KafkaBroker start(Path dir) throws IOException, InterruptedException {
        KafkaBroker b = new KafkaBroker(dir);
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            b.pickPorts();
            b.writeConfig();
            try {
                b.launch();
                return b;
            } catch (BindFailed e) {
                last = e;
                deleteTree(dir.resolve("data")); // formatted with ports that were taken: again from scratch
            }
        }
        throw new IOException("Kafka broker: no free ports after 5 tries", last);
    }

    String bootstrap() {
        return "127.0.0.1:" + plainPort;
    }

    String saslBootstrap() {
        return "127.0.0.1:" + saslPort;
    }

    /** A loopback port where nothing listens (the broker's stopped one, or another). */
    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    long startMillis() {
        return startedMillis;
    }

    private void pickPorts() throws IOException {
        try (ServerSocket a = free(); ServerSocket b = free(); ServerSocket c = free()) {
            plainPort = a.getLocalPort();
            saslPort = b.getLocalPort();
            controllerPort = c.getLocalPort();
        }
    }

    private static ServerSocket free() throws IOException {
        return new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
    }

    private Path config() {
        return dir.resolve("server.properties");
    }

    private void writeConfig() throws IOException {
        Files.createDirectories(dir);
        String c = String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.bootstrap.servers=127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + plainPort + ",SASL_PLAINTEXT://127.0.0.1:" + saslPort
                        + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + plainPort + ",SASL_PLAINTEXT://127.0.0.1:" + saslPort,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
                "sasl.enabled.mechanisms=SCRAM-SHA-256",
                "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config="
                        + "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "log.dirs=" + dir.resolve("data"),
                "num.partitions=1",
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "num.network.threads=2",
                "num.io.threads=2",
                "num.recovery.threads.per.data.dir=1",
                "");
        Files.writeString(config(), c);
    }

    /** The storage was formatted with ports that were taken: start again from nothing. */
    private static final class BindFailed extends IOException {
        BindFailed(String message) {
            super(message);
        }
    }

    private void launch() throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Xms64m", "-Xmx320m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Djava.awt.headless=true",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info",
                "-cp", System.getProperty("java.class.path"), KafkaBrokerMain.class.getName(),
                config().toString(), dir.resolve("data").toString(), clusterId,
                "SCRAM-SHA-256=[name=" + USER + ",password=" + PASSWORD + "]"));
        Path log = dir.resolve("broker.log");
        Files.deleteIfExists(log);
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        process.getOutputStream().close();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String text = Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
            if (text.contains("Address already in use")) {
                kill();
                throw new BindFailed("a port was taken: " + text.lines().filter(l -> l.contains("in use")).findFirst()
                        .orElse(""));
            }
            if (!process.isAlive()) {
                throw new IOException("Kafka broker exited with " + process.exitValue() + ":\n" + tail(text));
            }
            if (text.contains("Kafka Server started") && accepts(plainPort)) {
                startedMillis = (System.nanoTime() - t0) / 1_000_000;
                return;
            }
            Thread.sleep(100);
        }
        String text = Files.readString(log, StandardCharsets.ISO_8859_1);
        kill();
        throw new IOException("Kafka broker not started within " + START_TIMEOUT.toSeconds() + " s:\n" + tail(text));
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String tail(String text) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    /** Creates a topic (and waits until it is there). */
    void createTopic(String name, int partitions, Map<String, String> configs) throws Exception {
        try (Admin admin = Admin.create(clientProperties())) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs))).all()
                    .get(30, TimeUnit.SECONDS);
        }
    }

    private Properties clientProperties() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        return p;
    }

    /**
     * Every record of the topic from the beginning, read until {@code expected} are there (or
     * until the timeout, and then a short while longer to see any more than expected).
     */
    List<ConsumerRecord<byte[], byte[]>> consume(String topic, int expected, Duration timeout) {
        Properties p = clientProperties();
        p.put("enable.auto.commit", "false");
        p.put("isolation.level", "read_committed");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = consumer.partitionsFor(topic).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            long deadline = System.nanoTime() + timeout.toNanos();
            long extra = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, extra)) {
                for (var r : consumer.poll(Duration.ofMillis(200))) {
                    out.add(r);
                }
                if (out.size() >= expected && extra == Long.MAX_VALUE) {
                    extra = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
                }
            }
        }
        return out;
    }

    /** Ends the broker at once (SIGKILL), as a crash would. */
    void kill() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Starts the broker again on its storage and ports. */
    void restart() throws IOException, InterruptedException {
        kill();
        for (int attempt = 0; ; attempt++) {
            try {
                launch();
                return;
            } catch (BindFailed e) {
                if (attempt >= 10) {
                    throw e;
                }
                Thread.sleep(1000); // the old process's sockets may still be closing
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
