package dev.httptrace.capture;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A live capture: the socket filter loaded into the kernel, attached to a raw packet
 * socket, and its perf buffer drained in batches into memory this object owns.
 *
 * <p>Not thread-safe: open, poll and close from one thread. Closing (or the process
 * ending) closes the socket, which detaches the filter; nothing stays in the kernel.
 */
public final class NativeCapture implements AutoCloseable {

    /** Settings fixed before the program is loaded. Empty ports: every port. */
    public record Settings(int snaplen, List<Integer> ports, int perfPages) {
        public static final int DEFAULT_SNAPLEN = 8192;
        /** HT_MAX_SNAPLEN of the compiled filter; checked against the shim at open. */
        public static final int MAX_SNAPLEN = 32768;
        public static final int DEFAULT_PERF_PAGES = 256;
        public static final int MAX_PORTS = 64;
    }

    /** Counters from the kernel filter and the shim, since open. */
    public record Stats(long packets, long tcpPackets, long loopbackDuplicates, long otherPorts,
                        long noPayload, long emitted, long emitFailed, long lostSamples,
                        long received, long overflow) {}

    // Offsets of struct ht_event (bpf/httptrace_event.h); checked against the shim at open.
    private static final int HEADER_SIZE = 64;
    private static final int OFF_TIMESTAMP = 0;
    private static final int OFF_IFINDEX = 8;
    private static final int OFF_PAYLOAD_LEN = 12;
    private static final int OFF_SADDR = 16;
    private static final int OFF_DADDR = 32;
    private static final int OFF_SEQ = 48;
    private static final int OFF_ACK = 52;
    private static final int OFF_SPORT = 56;
    private static final int OFF_DPORT = 58;
    private static final int OFF_CAPTURED_LEN = 60;
    private static final int OFF_FAMILY = 62;
    private static final int OFF_TCP_FLAGS = 63;
    private static final int[] EXPECTED_LAYOUT = {HEADER_SIZE, OFF_TIMESTAMP, OFF_IFINDEX,
        OFF_PAYLOAD_LEN, OFF_SADDR, OFF_DADDR, OFF_SEQ, OFF_ACK, OFF_SPORT, OFF_DPORT,
        OFF_CAPTURED_LEN, OFF_FAMILY, OFF_TCP_FLAGS};
    private static final int LAYOUT_MAX_SNAPLEN = 13;
    private static final int ERR_LEN = 4096;

    /**
     * Batches the drain thread can fill before the pipeline takes them: with the rings, what
     * absorbs a burst or a slow stretch of the pipeline (a collection, the first seconds
     * before the JIT has compiled it) without losing records.
     */
    private static final int BATCHES = 16;
    /** How long the drain thread waits in one ht_poll: also how soon it notices a stop. */
    private static final int DRAIN_WAIT_MILLIS = 50;
    private static final Comparator<Segment> BY_TIME = Comparator.comparingLong(Segment::timestampNanos);

    /** One buffer the shim copies records into, and how many bytes it holds. */
    private static final class Batch {
        final MemorySegment memory;
        long length;
        /** The rings lost samples since the previous batch: records before this batch's end are missing. */
        boolean afterLoss;

        Batch(MemorySegment memory) {
            this.memory = memory;
        }
    }

    private final Arena arena;
    private final MemorySegment tracer;
    private final Batch[] batches;
    private final long realtimeOffsetNanos;
    private final ArrayList<Segment> pending = new ArrayList<>();
    /** The batch being delivered, on the heap: the segments' payloads are slices of it. */
    private byte[] bytes = new byte[0];
    private final ArrayBlockingQueue<Batch> free = new ArrayBlockingQueue<>(BATCHES);
    private final ArrayBlockingQueue<Batch> filled = new ArrayBlockingQueue<>(BATCHES);
    private Thread drainer;
    private volatile boolean stopping;
    private volatile String drainError;
    /** Lost samples counted so far, as the drain thread last read them (its own). */
    private long lostSeen;
    private boolean closed;

    private NativeCapture(Arena arena, MemorySegment tracer, Batch[] batches, long realtimeOffsetNanos) {
        this.arena = arena;
        this.tracer = tracer;
        this.batches = batches;
        this.realtimeOffsetNanos = realtimeOffsetNanos;
        for (int i = 1; i < batches.length; i++) {
            free.add(batches[i]); // batches[0] is for testRun and the final drain
        }
    }

    /** Loads the filter into the kernel and opens its perf buffer; nothing is captured until attach. */
    public static NativeCapture open(Settings settings) throws CaptureException {
        checkLayout();
        Arena arena = Arena.ofShared(); // the drain thread fills batches the pipeline reads
        try {
            MemorySegment ports = arena.allocate(JAVA_SHORT, Math.max(1, settings.ports().size()));
            for (int i = 0; i < settings.ports().size(); i++) {
                ports.setAtIndex(JAVA_SHORT, i, (short) (int) settings.ports().get(i));
            }
            MemorySegment err = arena.allocate(ERR_LEN);
            MemorySegment errnum = arena.allocate(JAVA_INT);
            MemorySegment tracer = (MemorySegment) Shim.OPEN.invokeExact(settings.snaplen(), ports,
                    settings.ports().size(), settings.perfPages(), err, (long) ERR_LEN, errnum);
            if (tracer.equals(MemorySegment.NULL)) {
                int errno = errnum.get(JAVA_INT, 0);
                // EPERM: bpf() itself refused us. EACCES/EINVAL at load: the verifier said no.
                var reason = errno == Errno.EPERM
                        ? CaptureException.Reason.PERMISSION : CaptureException.Reason.BPF_REJECTED;
                throw new CaptureException(reason, err.getString(0));
            }
            // One ring (and at least one largest record): a drain at the watermark then holds
            // every ring's pending records, which are sorted by time together; smaller batches
            // split requests from their responses and cost more than they save (measured).
            // Pages are resident only once a burst has used them.
            long size = Math.max((long) Shim.POLL_BUFFER_SIZE.invokeExact(tracer),
                    HEADER_SIZE + Settings.MAX_SNAPLEN + 8);
            Batch[] batches = new Batch[BATCHES + 1];
            for (int i = 0; i < batches.length; i++) {
                batches[i] = new Batch(arena.allocate(size, 8));
            }
            long offset = (long) Shim.REALTIME_OFFSET.invokeExact();
            return new NativeCapture(arena, tracer, batches, offset);
        } catch (CaptureException e) {
            arena.close();
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new CaptureException(CaptureException.Reason.OTHER, "native call failed: " + t);
        }
    }

    /**
     * Gives the kernel filter the hosts asked for (before {@link #attach}): from then on only
     * segments with an address in one of them are captured. Nothing changes for an empty filter.
     */
    public void filterHosts(HostFilter hosts) throws CaptureException {
        for (HostFilter.Prefix p : hosts.prefixes()) {
            try (Arena call = Arena.ofConfined()) {
                MemorySegment addr = call.allocate(16);
                MemorySegment.copy(p.address(), 0, addr, JAVA_BYTE, 0, p.address().length);
                MemorySegment err = call.allocate(ERR_LEN);
                int ret = (int) Shim.ADD_HOST.invokeExact(tracer, p.ipv6() ? 6 : 4, addr, p.bits(), err, (long) ERR_LEN);
                if (ret < 0) {
                    throw new CaptureException(CaptureException.Reason.OTHER, err.getString(0));
                }
            } catch (CaptureException e) {
                throw e;
            } catch (Throwable t) {
                throw new CaptureException(CaptureException.Reason.OTHER, "native call failed: " + t);
            }
        }
    }

    /**
     * Stops the copying of a connection's packets, but for SYN, FIN and RST, until it is
     * opened again: its TLS plaintext is reported instead. Addresses of 4 or 16 bytes. False
     * when the kernel refused (the packets keep coming and are left alone in user space).
     */
    public boolean skipConnection(byte[] a, int aPort, byte[] b, int bPort) {
        return connectionCall(Shim.SKIP_CONNECTION, a, aPort, b, bPort);
    }

    /**
     * Copies the segments of the connection between a:aPort and b:bPort whole from now on (an
     * HTTP/2 connection: HPACK needs every header block byte), until its next SYN or RST.
     * Returns false when the kernel refused (its map is full): segments stay cut at the snap length.
     */
    public boolean captureWhole(byte[] a, int aPort, byte[] b, int bPort) {
        return connectionCall(Shim.CAPTURE_WHOLE, a, aPort, b, bPort);
    }

    private boolean connectionCall(java.lang.invoke.MethodHandle call, byte[] a, int aPort, byte[] b, int bPort) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocateFrom(JAVA_BYTE, a);
            MemorySegment sb = arena.allocateFrom(JAVA_BYTE, b);
            return (int) call.invokeExact(tracer, a.length == 16 ? 6 : 4, sa, aPort, sb, bPort) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** Attaches the filter to a raw socket on one interface, or every interface when iface is null. */
    public void attach(String iface) throws CaptureException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment name = call.allocateFrom(iface == null ? "" : iface);
            MemorySegment err = call.allocate(ERR_LEN);
            int ret = (int) Shim.ATTACH.invokeExact(tracer, name, err, (long) ERR_LEN);
            if (ret < 0) {
                var reason = switch (-ret) {
                    case Errno.EPERM, Errno.EACCES -> CaptureException.Reason.PERMISSION;
                    case Errno.ENODEV -> CaptureException.Reason.NO_SUCH_INTERFACE;
                    default -> CaptureException.Reason.OTHER;
                };
                throw new CaptureException(reason, err.getString(0));
            }
        } catch (CaptureException e) {
            throw e;
        } catch (Throwable t) {
            throw new CaptureException(CaptureException.Reason.OTHER, "native call failed: " + t);
        }
        drainer = Thread.ofPlatform().name("httptrace-drain").daemon().start(this::drainLoop);
    }

    /**
     * The drain thread: keeps the kernel's rings empty by copying records into free batches
     * as soon as a ring passes its watermark, whatever the pipeline is doing. When the
     * pipeline falls behind by every batch, records wait in the rings (and are lost only
     * when those fill too, counted by the kernel).
     */
    private void drainLoop() {
        raiseThreadPriority();
        try {
            while (!stopping) {
                Batch b = free.poll(DRAIN_WAIT_MILLIS, TimeUnit.MILLISECONDS);
                if (b == null) {
                    continue;
                }
                b.length = pollInto(b, DRAIN_WAIT_MILLIS);
                long lost = lostSamples();
                b.afterLoss = lost != lostSeen;
                lostSeen = lost;
                if (b.length > 0 || b.afterLoss) {
                    filled.add(b); // never blocks: there are as many places as batches
                } else {
                    free.add(b);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (CaptureException | RuntimeException e) {
            drainError = e.getMessage(); // the pipeline thread reports it and stops
        }
    }

    /** Best effort (it needs root or CAP_SYS_NICE): the drain works the same without it. */
    private static void raiseThreadPriority() {
        try {
            int unused = (int) Shim.RAISE_THREAD_PRIORITY.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    private long lostSamples() {
        try {
            return (long) Shim.LOST_SAMPLES.invokeExact(tracer);
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    /** One ht_poll into b: the bytes written. */
    private long pollInto(Batch b, int timeoutMillis) throws CaptureException {
        long len;
        try {
            len = (long) Shim.POLL.invokeExact(tracer, b.memory, b.memory.byteSize(), timeoutMillis);
        } catch (Throwable t) {
            throw new CaptureException(CaptureException.Reason.OTHER, "native call failed: " + t);
        }
        if (len < 0) {
            throw new CaptureException(CaptureException.Reason.IO, "reading the perf buffer failed: errno " + -len);
        }
        return len;
    }

    /**
     * Waits up to timeoutMillis for records the drain thread has copied, then hands every
     * one copied so far to the sink, each batch in timestamp order (records of different
     * CPUs arrive interleaved). After a batch whose records follow samples the kernel lost,
     * {@code onLoss} runs: the holes those left will not fill, and waiting for them would only
     * hold later bytes. Returns how many records.
     */
    public int poll(int timeoutMillis, Consumer<Segment> sink, Runnable onLoss) throws CaptureException {
        if (drainError != null) {
            throw new CaptureException(CaptureException.Reason.IO, drainError);
        }
        Batch b;
        try {
            b = filled.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
        int count = 0;
        // At most a pool's worth, so that the caller's own work (stop, expiry, flush) comes round.
        for (int n = 0; b != null; n++) {
            count += deliver(b, sink);
            if (b.afterLoss) {
                onLoss.run();
            }
            free.add(b);
            b = n + 1 < BATCHES ? filled.poll() : null;
        }
        return count;
    }

    /**
     * The trace stops: stops the drain thread, then hands the sink what it had copied and
     * what is still in the rings, so that traffic seen before the stop is not left behind.
     * Bounded: at most a few rings' worth of polls.
     */
    public int finish(Consumer<Segment> sink, Runnable onLoss) throws CaptureException {
        stopDrainer();
        int count = poll(0, sink, onLoss);
        Batch last = batches[0];
        for (int i = 0; i < 4 * BATCHES; i++) {
            last.length = pollInto(last, 0);
            if (last.length == 0) {
                break;
            }
            count += deliver(last, sink);
        }
        if (lostSamples() != lostSeen) {
            onLoss.run();
        }
        return count;
    }

    private void stopDrainer() {
        stopping = true;
        if (drainer != null) {
            try {
                drainer.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            drainer = null;
        }
    }

    /**
     * Runs the loaded filter once on an Ethernet frame with the kernel's BPF_PROG_TEST_RUN
     * and returns the records it emitted (none when it dropped the frame).
     */
    public List<Segment> testRun(byte[] frame) throws CaptureException {
        long len;
        try (Arena call = Arena.ofConfined()) {
            MemorySegment in = call.allocate(frame.length);
            MemorySegment.copy(frame, 0, in, JAVA_BYTE, 0, frame.length);
            len = (long) Shim.TEST_RUN.invokeExact(tracer, in, frame.length, batches[0].memory,
                    batches[0].memory.byteSize());
        } catch (Throwable t) {
            throw new CaptureException(CaptureException.Reason.OTHER, "native call failed: " + t);
        }
        if (len < 0) {
            throw new CaptureException(CaptureException.Reason.BPF_REJECTED, "BPF_PROG_TEST_RUN failed: errno " + -len);
        }
        List<Segment> out = new ArrayList<>();
        batches[0].length = len;
        deliver(batches[0], segment -> out.add(segment.withOwnPayload()));
        return out;
    }

    public Stats stats() {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(JAVA_LONG, 10);
            int n = (int) Shim.STATS.invokeExact(tracer, out, 10);
            long[] v = new long[10];
            for (int i = 0; i < Math.min(n, v.length); i++) {
                v[i] = out.getAtIndex(JAVA_LONG, i);
            }
            return new Stats(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]);
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopDrainer();
        try {
            Shim.CLOSE.invokeExact(tracer);
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        } finally {
            arena.close();
        }
    }

    /**
     * Hands the sink the records of a batch. The payloads are not copied one by one: the
     * batch is copied once into a reused array, and each segment's payload is a slice of it,
     * valid until the next batch (the stages copy the few bytes they keep).
     */
    private int deliver(Batch b, Consumer<Segment> sink) {
        pending.clear();
        MemorySegment batch = b.memory;
        if (bytes.length < b.length) {
            bytes = new byte[(int) b.length]; // a batch is at most one ring
        }
        MemorySegment.copy(batch, JAVA_BYTE, 0, bytes, 0, (int) b.length);
        long off = 0;
        while (off + HEADER_SIZE <= b.length) {
            Segment segment = read(batch, off);
            pending.add(segment);
            off += (HEADER_SIZE + segment.capturedLength() + 7) & ~7L;
        }
        pending.sort(BY_TIME);
        for (Segment segment : pending) {
            sink.accept(segment);
        }
        int count = pending.size();
        pending.clear();
        return count;
    }

    private Segment read(MemorySegment batch, long off) {
        int addressLength = batch.get(JAVA_BYTE, off + OFF_FAMILY) == 6 ? 16 : 4;
        byte[] src = new byte[addressLength];
        byte[] dst = new byte[addressLength];
        MemorySegment.copy(batch, JAVA_BYTE, off + OFF_SADDR, src, 0, addressLength);
        MemorySegment.copy(batch, JAVA_BYTE, off + OFF_DADDR, dst, 0, addressLength);
        int captured = Short.toUnsignedInt(batch.get(JAVA_SHORT, off + OFF_CAPTURED_LEN));
        return new Segment(
                batch.get(JAVA_LONG, off + OFF_TIMESTAMP) + realtimeOffsetNanos,
                batch.get(JAVA_INT, off + OFF_IFINDEX),
                src, dst,
                Short.toUnsignedInt(batch.get(JAVA_SHORT, off + OFF_SPORT)),
                Short.toUnsignedInt(batch.get(JAVA_SHORT, off + OFF_DPORT)),
                Integer.toUnsignedLong(batch.get(JAVA_INT, off + OFF_SEQ)),
                Integer.toUnsignedLong(batch.get(JAVA_INT, off + OFF_ACK)),
                Byte.toUnsignedInt(batch.get(JAVA_BYTE, off + OFF_TCP_FLAGS)),
                batch.get(JAVA_INT, off + OFF_PAYLOAD_LEN),
                bytes, (int) off + HEADER_SIZE, captured);
    }

    private static int[] layout() throws CaptureException {
        Shim.ensureLoaded();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(JAVA_INT, 32);
            int n = (int) Shim.EVENT_LAYOUT.invokeExact(out, 32);
            int[] values = new int[Math.min(n, 32)];
            for (int i = 0; i < values.length; i++) {
                values[i] = out.getAtIndex(JAVA_INT, i);
            }
            return values;
        } catch (Throwable t) {
            throw new CaptureException(CaptureException.Reason.NATIVE_LIBRARY, "native call failed: " + t);
        }
    }

    /** The Java reader and the C struct must agree byte for byte; a stale library would not. */
    private static void checkLayout() throws CaptureException {
        int[] actual = layout();
        boolean same = actual.length > LAYOUT_MAX_SNAPLEN && actual[LAYOUT_MAX_SNAPLEN] == Settings.MAX_SNAPLEN;
        for (int i = 0; i < EXPECTED_LAYOUT.length; i++) {
            if (!same || actual[i] != EXPECTED_LAYOUT[i]) {
                throw new CaptureException(CaptureException.Reason.NATIVE_LIBRARY,
                        "the native library's record layout does not match this build: rebuild with 'make'");
            }
        }
    }

    /** The errno values the shim returns that the CLI tells apart (Linux numbering). */
    private static final class Errno {
        static final int EPERM = 1;
        static final int EACCES = 13;
        static final int ENODEV = 19;
    }
}
