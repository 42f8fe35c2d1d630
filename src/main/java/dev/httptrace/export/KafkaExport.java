package dev.httptrace.export;

import dev.httptrace.exchange.EncodedExchangeSink;
import dev.httptrace.exchange.Exchange;
import dev.httptrace.exchange.ProcessInfo;
import dev.httptrace.export.KafkaCounters.Cause;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends every record to a Kafka topic: the value is the record's JSON line as stdout shows it
 * (without the newline), the key is the host and the connection (so the default partitioner
 * keeps one connection's exchanges in one partition, in order), and the headers {@value #HOST}
 * and {@value #INTERFACE} say where it was traced.
 *
 * <p>{@link #encoded} runs on the tracing thread and never waits: it copies the record into a
 * buffer bounded by count and bytes (counting a record from the moment it is offered until the
 * broker acknowledges or refuses it), or drops it as {@link Cause#BUFFER_FULL} when the buffer is
 * full. A thread of its own hands records to the client, whose idempotent producer ({@code
 * acks=all}, the client's defaults) retries without reordering; outcomes are counted by cause
 * ({@link KafkaCounters}). A broker that goes away is waited for up to the client's {@code
 * delivery.timeout.ms}; meanwhile the buffer holds what it can.
 */
public final class KafkaExport implements EncodedExchangeSink, AutoCloseable {

    /** Header naming the host that traced the record. */
    public static final String HOST = "host";
    /** Header naming the interface the exchange was seen on (absent when unknown). */
    public static final String INTERFACE = "interface";

    /**
     * How to export.
     *
     * @param brokers        bootstrap servers, {@code host:port[,host:port...]}
     * @param topic          the topic; it must exist
     * @param properties     client properties passed as they are (TLS, SASL, compression...)
     * @param bufferRecords  most records waiting at once
     * @param bufferBytes    most bytes of records waiting at once
     * @param timeout        bound of the start-up check and of the flush at exit
     * @param hostName       this host's name, for the key and the {@value #HOST} header
     * @param interfaceNames interface name by index (null when unknown)
     * @param report         where the periodic line goes while records are not delivered (null: nowhere)
     * @param reportEvery    how often that line may come
     */
    public record Settings(String brokers, String topic, Map<String, String> properties, int bufferRecords,
                           long bufferBytes, Duration timeout, String hostName, IntFunction<String> interfaceNames,
                           Consumer<String> report, Duration reportEvery) {
        public Settings {
            properties = Map.copyOf(properties);
            if (bufferRecords < 1 || bufferBytes < 1) {
                throw new IllegalArgumentException("the Kafka buffer must hold at least one record");
            }
        }
    }

    /** Why the start-up check failed. */
    public enum Reason {
        /** No broker answered within the timeout (or none of the names resolves). */
        UNREACHABLE,
        /** The topic does not exist. */
        UNKNOWN_TOPIC,
        /** The credentials were refused, or the topic may not be described. */
        REFUSED,
        /** A --kafka-property the client does not accept. */
        CONFIG
    }

    /** The start-up check failed: one line saying why. */
    public static final class StartFailed extends Exception {
        private final Reason reason;

        StartFailed(Reason reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }

        public Reason reason() {
            return reason;
        }
    }

    /** batch.size unless the topic allows less (or --kafka-property says otherwise). */
    static final int BATCH_BYTES = 256 * 1024;

    private final Settings settings;
    private final Producer<byte[], byte[]> producer;
    private final KafkaCounters counters = new KafkaCounters();
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger waitingRecords = new AtomicInteger();
    private final AtomicLong waitingBytes = new AtomicLong();
    private final byte[] hostBytes;
    private final Map<Integer, byte[]> interfaceBytes = new HashMap<>();
    private final StringBuilder key = new StringBuilder(128);
    private final Thread sender;
    private final Thread reporter;
    private volatile boolean closing;
    private volatile boolean forced;

    /**
     * Checks that the broker answers and the topic exists (within the timeout), then starts the
     * producer.
     *
     * @throws StartFailed with the reason and one line to print
     */
    public static KafkaExport start(Settings settings) throws StartFailed {
        int maxMessageBytes = check(settings);
        Properties p = new Properties();
        // Ours first: buffer.memory above the export's own bound, so the client never holds
        // up the sending thread before the export's buffer is full.
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(Math.max(settings.bufferBytes() + (4L << 20), 8L << 20)));
        // While the broker is away the client may forget the topic's partitions (it
        // re-bootstraps), and send() then waits for them: let it wait as long as a record may
        // take to be delivered (the export's buffer holds the rest, the tracing thread never waits).
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, settings.properties().getOrDefault(
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000"));
        // A batch larger than the topic's limit is split into batches of batch.size, and split
        // again for ever when batch.size is over the limit: keep it under (a record larger than
        // the limit then travels alone and is refused as too large).
        // Larger batches than the client's 16 KiB, a little longer to fill: fewer requests for
        // the same records (measured at 25k records/s: 2.8 -> 2.4 s of tracer CPU per 100k).
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(maxMessageBytes > 0
                ? Math.min(BATCH_BYTES, maxMessageBytes) : BATCH_BYTES));
        p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "httptrace-" + settings.hostName());
        p.putAll(settings.properties());
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, settings.brokers());
        try {
            return new KafkaExport(settings, new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer()));
        } catch (KafkaException e) {
            throw new StartFailed(Reason.CONFIG, "kafka: " + message(e));
        }
    }

    /** An export over a given producer (tests give a MockProducer). */
    KafkaExport(Settings settings, Producer<byte[], byte[]> producer) {
        this.settings = settings;
        this.producer = producer;
        this.hostBytes = settings.hostName().getBytes(StandardCharsets.UTF_8);
        this.sender = Thread.ofPlatform().daemon().name("httptrace-kafka").start(this::send);
        this.reporter = settings.report() == null ? null
                : Thread.ofPlatform().daemon().name("httptrace-kafka-report").start(this::report);
    }

    /**
     * The broker answers and the topic exists, within the timeout; else why not. Returns the
     * topic's max.message.bytes, or 0 when it may not be read.
     */
    private static int check(Settings settings) throws StartFailed {
        long ms = Math.max(1, settings.timeout().toMillis());
        Properties p = new Properties();
        p.putAll(settings.properties());
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, settings.brokers());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(ms));
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(ms));
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "httptrace-check-" + settings.hostName());
        // Producer settings mean nothing to the admin client: leave them out (it would warn).
        p.keySet().removeIf(k -> ProducerConfig.configNames().contains(k) && !AdminClientConfig.configNames().contains(k));
        Admin admin;
        try {
            admin = Admin.create(p);
        } catch (KafkaException e) {
            if (root(e) instanceof ConfigException && String.valueOf(root(e).getMessage()).contains("resolvable bootstrap")) {
                throw new StartFailed(Reason.UNREACHABLE, "kafka: no broker of '" + settings.brokers()
                        + "' resolves to an address");
            }
            throw new StartFailed(Reason.CONFIG, "kafka: " + message(e));
        }
        try {
            admin.describeTopics(List.of(settings.topic())).allTopicNames().get(ms + 1000, TimeUnit.MILLISECONDS);
            return maxMessageBytes(admin, settings.topic(), ms);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof UnknownTopicOrPartitionException) {
                throw new StartFailed(Reason.UNKNOWN_TOPIC, "kafka: topic '" + settings.topic() + "' does not exist on "
                        + settings.brokers() + " (create it, or name another with --kafka-topic)");
            }
            if (c instanceof AuthenticationException || c instanceof AuthorizationException) {
                throw new StartFailed(Reason.REFUSED, "kafka: " + settings.brokers() + " refused: " + message(c));
            }
            if (c instanceof TimeoutException) {
                throw unreachable(settings, ms);
            }
            throw new StartFailed(Reason.UNREACHABLE, "kafka: cannot check topic '" + settings.topic() + "' on "
                    + settings.brokers() + ": " + message(c));
        } catch (java.util.concurrent.TimeoutException e) {
            throw unreachable(settings, ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unreachable(settings, ms);
        } finally {
            admin.close(Duration.ofMillis(500));
        }
    }

    private static int maxMessageBytes(Admin admin, String topic, long ms) {
        try {
            ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config c = admin.describeConfigs(List.of(r)).all().get(ms + 1000, TimeUnit.MILLISECONDS).get(r);
            ConfigEntry e = c == null ? null : c.get("max.message.bytes");
            return e == null || e.value() == null ? 0 : Integer.parseInt(e.value());
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return 0; // not allowed to read it, or no answer: the client's defaults
        }
    }

    private static StartFailed unreachable(Settings settings, long ms) {
        return new StartFailed(Reason.UNREACHABLE, "kafka: no broker of '" + settings.brokers() + "' answered within "
                + (ms >= 1000 && ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms"));
    }

    /** The innermost cause: "Failed to create new KafkaAdminClient" says less than what caused it. */
    private static Throwable root(Throwable e) {
        while (e.getCause() != null && e.getCause() != e) {
            e = e.getCause();
        }
        return e;
    }

    private static String message(Throwable e) {
        if (e instanceof KafkaException && e.getCause() != null) {
            e = root(e);
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }

    /** This host's name: the kernel's (as hostname(1) prints it). */
    public static String localHostName() {
        try {
            String name = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            if (!name.isEmpty()) {
                return name;
            }
        } catch (Exception ignored) {
            // not Linux, or no /proc: ask Java
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    // ------------------------------------------------------------------ the tracing thread

    /** Copies the record into the buffer, or counts it dropped when the buffer is full. Never waits. */
    @Override
    public void encoded(Exchange x, byte[] buf, int off, int len) {
        counters.offered();
        if (closing || waitingRecords.get() >= settings.bufferRecords()
                || waitingBytes.get() + len > settings.bufferBytes()) {
            counters.failed(Cause.BUFFER_FULL);
            return;
        }
        byte[] value = Arrays.copyOfRange(buf, off, off + len);
        byte[] k = key(x);
        byte[] ifname = interfaceName(x.ifindex());
        Header[] headers = ifname == null
                ? new Header[] {new RecordHeader(HOST, hostBytes)}
                : new Header[] {new RecordHeader(HOST, hostBytes), new RecordHeader(INTERFACE, ifname)};
        waitingRecords.incrementAndGet();
        waitingBytes.addAndGet(len);
        queue.add(new Pending(new ProducerRecord<>(settings.topic(), null, k, value, Arrays.asList(headers)), len));
    }

    /** "host client server", e.g. "web-1 10.0.0.1:40312 10.0.0.2:80": one connection, one key. */
    private byte[] key(Exchange x) {
        StringBuilder b = key;
        b.setLength(0);
        b.append(settings.hostName()).append(' ');
        endpoint(b, x.client(), x.tls() == null ? null : x.tls().clientProcess());
        b.append(' ');
        endpoint(b, x.server(), x.tls() == null ? null : x.tls().serverProcess());
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void endpoint(StringBuilder b, Exchange.Endpoint e, ProcessInfo process) {
        byte[] a = e.address();
        if (a.length == 4) {
            b.append(a[0] & 0xff).append('.').append(a[1] & 0xff).append('.').append(a[2] & 0xff).append('.')
             .append(a[3] & 0xff).append(':').append(e.port());
        } else if (a.length == 16) {
            b.append('[');
            for (int i = 0; i < 16; i += 2) {
                b.append(i == 0 ? "" : ":").append(Integer.toHexString(((a[i] & 0xff) << 8) | (a[i + 1] & 0xff)));
            }
            b.append("]:").append(e.port());
        } else {
            // A TLS stream whose socket is unknown: the process stands for the end.
            b.append("pid:").append(process == null ? 0 : process.pid());
        }
    }

    private byte[] interfaceName(int ifindex) {
        if (ifindex <= 0 || settings.interfaceNames() == null) {
            return null;
        }
        byte[] name = interfaceBytes.get(ifindex);
        if (name == null) {
            String s = settings.interfaceNames().apply(ifindex);
            if (s == null) {
                return null;
            }
            name = s.getBytes(StandardCharsets.UTF_8);
            if (interfaceBytes.size() < 4096) {
                interfaceBytes.put(ifindex, name);
            }
        }
        return name;
    }

    // ------------------------------------------------------------------ the sending thread

    /** A record waiting, and its outcome when the client reports it. */
    private final class Pending implements Callback {
        final ProducerRecord<byte[], byte[]> record;
        final int bytes;

        Pending(ProducerRecord<byte[], byte[]> record, int bytes) {
            this.record = record;
            this.bytes = bytes;
        }

        @Override
        public void onCompletion(RecordMetadata metadata, Exception e) {
            done(this, e);
        }
    }

    private void send() {
        while (true) {
            Pending p;
            try {
                p = queue.poll(50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (p == null) {
                if (closing) {
                    return;
                }
                continue;
            }
            if (forced) {
                done(p, new KafkaException("not sent: the flush at exit ran out of time"));
                continue;
            }
            try {
                producer.send(p.record, p); // the callback comes once, with the outcome
            } catch (RuntimeException e) {
                done(p, e); // thrown instead of calling back (e.g. the producer was closed)
            }
        }
    }

    private void done(Pending p, Exception e) {
        if (e == null) {
            counters.delivered();
        } else {
            counters.failed(cause(e));
        }
        waitingBytes.addAndGet(-p.bytes);
        waitingRecords.decrementAndGet();
    }

    private Cause cause(Exception e) {
        if (e instanceof RecordTooLargeException || e instanceof RecordBatchTooLargeException) {
            return Cause.TOO_LARGE;
        }
        if (e instanceof AuthorizationException || e instanceof AuthenticationException) {
            return Cause.NOT_AUTHORIZED;
        }
        if (forced) {
            return Cause.AT_EXIT;
        }
        if (e instanceof TimeoutException) {
            return Cause.TIMEOUT;
        }
        return Cause.OTHER;
    }

    // ------------------------------------------------------------------ the periodic line

    private void report() {
        long every = Math.max(1, settings.reportEvery().toMillis());
        KafkaCounters.Snapshot last = counters.snapshot();
        boolean stalled = false;
        while (!closing) {
            try {
                Thread.sleep(every);
            } catch (InterruptedException e) {
                return;
            }
            if (closing) {
                return;
            }
            KafkaCounters.Snapshot now = counters.snapshot();
            boolean newlyFailed = now.notDelivered() != last.notDelivered();
            boolean nothingDelivered = now.waiting() > 0 && now.delivered() == last.delivered();
            if (newlyFailed || nothingDelivered || stalled) {
                String s = line(now);
                if (nothingDelivered) {
                    s += "; nothing delivered in the last " + (every % 1000 == 0 ? every / 1000 + " s" : every + " ms")
                            + " (broker unreachable?)";
                } else if (stalled) {
                    s += "; delivering again";
                }
                settings.report().accept(s);
            }
            stalled = nothingDelivered;
            last = now;
        }
    }

    /** "kafka: 120 records, 100 delivered, 15 waiting, 5 not delivered (5 buffer full)". */
    public static String line(KafkaCounters.Snapshot s) {
        return "kafka: " + s.records() + " records, " + s.delivered() + " delivered, " + s.waiting() + " waiting, "
                + s.notDelivered() + " not delivered" + (s.notDelivered() == 0 ? "" : " (" + s.causes() + ")");
    }

    // ------------------------------------------------------------------ the end

    /** The counters now. */
    public KafkaCounters.Snapshot stats() {
        return counters.snapshot();
    }

    /**
     * Stops taking records, delivers what is waiting within the timeout, counts what could not
     * be delivered ({@link Cause#AT_EXIT}) and closes the client. Idempotent.
     */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        long deadline = System.nanoTime() + settings.timeout().toNanos();
        while (waitingRecords.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (waitingRecords.get() > 0) {
            forced = true;
        }
        long left = Math.max(0, deadline - System.nanoTime());
        try {
            // Forced: batches still in the client are aborted, and their callbacks count them.
            producer.close(forced ? Duration.ZERO : Duration.ofNanos(left));
        } catch (RuntimeException ignored) {
            // counted below
        }
        try {
            sender.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        forced = true;
        Pending p;
        while ((p = queue.poll()) != null) {
            done(p, new KafkaException("not sent before exit"));
        }
        if (reporter != null) {
            reporter.interrupt();
        }
    }
}
