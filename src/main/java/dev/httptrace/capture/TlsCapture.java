package dev.httptrace.capture;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import java.util.function.ObjIntConsumer;

/**
 * The TLS uprobes (bpf/tls.bpf.c) through the shim: load them, probe a library, and read
 * their records. Polled without waiting from the pipeline thread, between the socket
 * filter's batches. Close detaches every probe.
 */
public final class TlsCapture implements AutoCloseable {

    /** Bits of {@link #attach}'s mask, in the order of enum ht_tls_fn. */
    public static final String[] FUNCTIONS = {
        "SSL_read", "SSL_write", "SSL_read_ex", "SSL_write_ex", "SSL_do_handshake", "SSL_free", "SSL_clear"};

    // struct ht_tls_event (bpf/tls_event.h); checked against the shim at open.
    private static final int HEADER_SIZE = 104;
    private static final int OFF_TIMESTAMP = 0, OFF_SSL = 8, OFF_TGID = 16, OFF_TID = 20, OFF_POS = 24,
            OFF_OTHER_POS = 28, OFF_LEN = 32, OFF_SKIPPED = 36, OFF_KIND = 40, OFF_DIR = 41, OFF_FAMILY = 42,
            OFF_FROM_START = 43, OFF_LPORT = 44, OFF_RPORT = 46, OFF_LADDR = 48, OFF_RADDR = 64, OFF_COMM = 80,
            OFF_SERIAL = 96;
    private static final int CHUNK = 16384;
    private static final int[] EXPECTED_LAYOUT = {HEADER_SIZE, OFF_TIMESTAMP, OFF_SSL, OFF_TGID, OFF_TID, OFF_POS,
        OFF_OTHER_POS, OFF_LEN, OFF_SKIPPED, OFF_KIND, OFF_DIR, OFF_FAMILY, OFF_FROM_START, OFF_LPORT, OFF_RPORT,
        OFF_LADDR, OFF_RADDR, OFF_COMM, OFF_SERIAL, CHUNK};
    private static final int ERR_LEN = 1024;
    private static final byte KIND_PROCESS = 2;
    private static final byte[] NO_ADDRESS = new byte[0];
    private static final java.util.Comparator<TlsRecord> BY_TIME =
            java.util.Comparator.comparingLong(TlsRecord::timestampNanos);

    private final Arena arena;
    private final MemorySegment tls;
    /** Takes every ring's pending records in one drain (see ht_tls_poll_buffer_size). */
    private final MemorySegment buffer;
    private final byte[] bytes;
    private final long realtimeOffsetNanos;
    private long records;
    private boolean closed;
    private final java.util.ArrayList<TlsRecord> batch = new java.util.ArrayList<>();

    private TlsCapture(Arena arena, MemorySegment tls, long bufferSize, long realtimeOffsetNanos) {
        this.arena = arena;
        this.tls = tls;
        this.buffer = arena.allocate(bufferSize, 8);
        this.bytes = new byte[(int) bufferSize];
        this.realtimeOffsetNanos = realtimeOffsetNanos;
    }

    /** Loads the TLS program and its socket tracepoints; no library is probed yet. */
    public static TlsCapture open(int perfPages) throws CaptureException {
        TlsShim.ensureLoaded();
        checkLayout();
        Arena arena = Arena.ofConfined();
        try {
            MemorySegment err = arena.allocate(ERR_LEN);
            MemorySegment errnum = arena.allocate(JAVA_INT);
            MemorySegment tls = (MemorySegment) TlsShim.OPEN.invokeExact(perfPages, err, (long) ERR_LEN, errnum);
            if (tls.equals(MemorySegment.NULL)) {
                int errno = errnum.get(JAVA_INT, 0);
                String message = err.getString(0); // before the arena that holds it is closed
                arena.close();
                throw new CaptureException(errno == 1 ? CaptureException.Reason.PERMISSION
                        : CaptureException.Reason.BPF_REJECTED, message);
            }
            long bufferSize = (long) TlsShim.POLL_BUFFER_SIZE.invokeExact(tls);
            return new TlsCapture(arena, tls, bufferSize, (long) TlsShim.REALTIME_OFFSET.invokeExact());
        } catch (CaptureException e) {
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new CaptureException(CaptureException.Reason.OTHER, "native call failed: " + t);
        }
    }

    /** What probing a file gave: the functions probed (a mask of {@link #FUNCTIONS}), or why none were. */
    public record Attached(int functions, int errno, String error) {
        public boolean ok() { return functions > 0; }
    }

    /** Probes the OpenSSL API in the ELF file at {@code path} for every process that maps it. */
    public Attached attach(String path) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment p = call.allocateFrom(path);
            MemorySegment err = call.allocate(ERR_LEN);
            int ret = (int) TlsShim.ATTACH.invokeExact(tls, p, err, (long) ERR_LEN);
            return ret >= 0 ? new Attached(ret, 0, null) : new Attached(0, -ret, err.getString(0));
        } catch (Throwable t) {
            return new Attached(0, 0, "native call failed: " + t);
        }
    }

    /**
     * Reads every record waiting in the rings, without waiting, and hands them on in time
     * order (the rings are per CPU): so the first end of a connection seen is the first that
     * made a call. The executables of processes seen for the first time go to
     * {@code executables} (pid, path) before any record. Returns how many records.
     */
    public int poll(Consumer<TlsRecord> sink, ObjIntConsumer<String> executables) throws CaptureException {
        int n = 0;
        long len;
        java.util.ArrayList<TlsRecord> batch = this.batch;
        do {
            try {
                len = (long) TlsShim.POLL.invokeExact(tls, buffer, buffer.byteSize());
            } catch (Throwable t) {
                throw new CaptureException(CaptureException.Reason.OTHER, "native call failed: " + t);
            }
            if (len < 0) {
                throw new CaptureException(CaptureException.Reason.IO, "reading the TLS perf buffer failed: errno " + -len);
            }
            MemorySegment.copy(buffer, JAVA_BYTE, 0, bytes, 0, (int) len);
            long off = 0;
            while (off + HEADER_SIZE <= len) {
                int dataLen = buffer.get(JAVA_INT, off + OFF_LEN);
                if (buffer.get(JAVA_BYTE, off + OFF_KIND) == KIND_PROCESS) {
                    executables.accept(executable(bytes, (int) off + HEADER_SIZE, dataLen),
                            buffer.get(JAVA_INT, off + OFF_TGID));
                } else {
                    batch.add(read(off, dataLen));
                }
                off += (HEADER_SIZE + dataLen + 7) & ~7L;
            }
            batch.sort(BY_TIME);
            for (TlsRecord r : batch) sink.accept(r);
            n += batch.size();
            batch.clear();
        } while (len > buffer.byteSize() / 2); // a full buffer: more may wait
        records += n;
        return n;
    }

    /** The path of an HT_TLS_PROCESS record: its names run from the file up to the root. */
    static String executable(byte[] bytes, int offset, int length) {
        java.util.ArrayDeque<String> names = new java.util.ArrayDeque<>();
        int start = offset;
        for (int i = offset; i < offset + length; i++) {
            if (bytes[i] == 0) {
                names.push(new String(bytes, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return "/" + String.join("/", names);
    }

    private TlsRecord read(long off, int dataLen) {
        int family = buffer.get(JAVA_BYTE, off + OFF_FAMILY);
        int addrLen = family == 4 ? 4 : family == 6 ? 16 : 0;
        byte[] local = addrLen == 0 ? NO_ADDRESS : new byte[addrLen];
        byte[] remote = addrLen == 0 ? NO_ADDRESS : new byte[addrLen];
        System.arraycopy(bytes, (int) off + OFF_LADDR, local, 0, addrLen);
        System.arraycopy(bytes, (int) off + OFF_RADDR, remote, 0, addrLen);
        int commLen = 0;
        while (commLen < 16 && bytes[(int) off + OFF_COMM + commLen] != 0) commLen++;
        return new TlsRecord(
                buffer.get(JAVA_LONG, off + OFF_TIMESTAMP) + realtimeOffsetNanos,
                buffer.get(JAVA_LONG, off + OFF_SSL),
                buffer.get(JAVA_INT, off + OFF_SERIAL),
                buffer.get(JAVA_INT, off + OFF_TGID),
                buffer.get(JAVA_INT, off + OFF_TID),
                new String(bytes, (int) off + OFF_COMM, commLen, StandardCharsets.UTF_8),
                buffer.get(JAVA_BYTE, off + OFF_KIND) == 1,
                buffer.get(JAVA_BYTE, off + OFF_DIR) == 0,
                Integer.toUnsignedLong(buffer.get(JAVA_INT, off + OFF_POS)),
                Integer.toUnsignedLong(buffer.get(JAVA_INT, off + OFF_OTHER_POS)),
                bytes, (int) off + HEADER_SIZE, dataLen,
                Integer.toUnsignedLong(buffer.get(JAVA_INT, off + OFF_SKIPPED)),
                buffer.get(JAVA_BYTE, off + OFF_FROM_START) != 0,
                local, Short.toUnsignedInt(buffer.get(JAVA_SHORT, off + OFF_LPORT)),
                remote, Short.toUnsignedInt(buffer.get(JAVA_SHORT, off + OFF_RPORT)));
    }

    /**
     * Stops the copying of one stream's plaintext in the kernel (its records would be
     * dropped here anyway); its close still comes. False when the kernel refused.
     */
    public boolean mute(int pid, long ssl, int serial) {
        try {
            return (int) TlsShim.MUTE.invokeExact(tls, pid, ssl, serial) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** Records read so far. */
    public long records() { return records; }

    /** Samples the rings lost so far. */
    public long lostSamples() {
        try {
            return (long) TlsShim.LOST_SAMPLES.invokeExact(tls);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static void checkLayout() throws CaptureException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(JAVA_INT, 32);
            int n = (int) TlsShim.EVENT_LAYOUT.invokeExact(out, 32);
            int[] actual = new int[Math.min(n, 32)];
            for (int i = 0; i < actual.length; i++) actual[i] = out.getAtIndex(JAVA_INT, i);
            if (!java.util.Arrays.equals(actual, EXPECTED_LAYOUT)) {
                throw new CaptureException(CaptureException.Reason.NATIVE_LIBRARY,
                        "the native library's TLS record layout " + java.util.Arrays.toString(actual)
                                + " differs from what this build expects: rebuild with 'make'");
            }
        } catch (CaptureException e) {
            throw e;
        } catch (Throwable t) {
            throw new CaptureException(CaptureException.Reason.OTHER, "native call failed: " + t);
        }
    }

    /** Detaches every probe and unloads the program. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            TlsShim.CLOSE.invokeExact(tls);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            arena.close();
        }
    }
}
