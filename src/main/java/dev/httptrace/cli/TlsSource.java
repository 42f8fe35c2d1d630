package dev.httptrace.cli;

import dev.httptrace.capture.CaptureException;
import dev.httptrace.capture.HostFilter;
import dev.httptrace.capture.NativeCapture;
import dev.httptrace.capture.SegmentFilter;
import dev.httptrace.capture.TlsCapture;
import dev.httptrace.pipeline.Tracer;
import dev.httptrace.tls.TlsLibraries;
import dev.httptrace.tls.TlsTracker;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * --tls: the uprobes loaded, the libraries found and probed (the start-up report), and the
 * records read between the socket filter's batches. Libraries loaded later are picked up by
 * a rescan every {@value #RESCAN_MILLIS} ms. Closing detaches every probe.
 */
final class TlsSource implements AutoCloseable {

    static final long RESCAN_MILLIS = 2000;
    /** The longest wait for packets between two reads of the TLS rings. */
    static final int POLL_MILLIS = 10;
    /** The TLS rings are this many times --perf-pages. */
    static final int TLS_RING_FACTOR = 4;

    /** A --tls-lib that cannot be probed: a bad option (exit 2). */
    static final class BadLibrary extends RuntimeException {
        BadLibrary(String message) {
            super(message);
        }
    }

    private final Tracer tracer;
    private final TlsCapture capture;
    private final TlsLibraries libraries;
    private long lost;
    private long nextScan;

    private TlsSource(Tracer tracer, TlsCapture capture, TlsLibraries libraries) {
        this.tracer = tracer;
        this.capture = capture;
        this.libraries = libraries;
    }

    /**
     * Starts the TLS capture beside the packet capture {@code packets} (told which connections it need not copy).
     *
     * @param ifindexes --iface: only streams whose socket is routed on one of these interfaces (see
     *                  {@link LocalRoutes}); empty: all
     */
    static TlsSource start(Tracer tracer, NativeCapture packets, int perfPages, List<Integer> ports, HostFilter hosts,
                           Set<Integer> ifindexes, List<String> explicit, Consumer<String> report) throws CaptureException {
        // Plaintext comes in bigger bursts than packet heads (whole bodies, both ends when local): 4x the rings.
        TlsCapture capture = TlsCapture.open(perfPages * TLS_RING_FACTOR);
        TlsSource source = new TlsSource(tracer, capture, new TlsLibraries(capture, report));
        try {
            boolean filtered = !ports.isEmpty() || hosts != HostFilter.ANY;
            tracer.traceTls(filtered ? new SegmentFilter(new HashSet<>(ports), hosts) : null,
                    new TlsTracker.Kernel() {
                        @Override
                        public void mute(int pid, long ssl, int serial) {
                            capture.mute(pid, ssl, serial);
                        }

                        @Override
                        public void skipPackets(byte[] local, int localPort, byte[] remote, int remotePort) {
                            packets.skipConnection(local, localPort, remote, remotePort);
                        }
                    });
            tracer.routeTls(new LocalRoutes(), ifindexes.isEmpty() ? null : ifindexes::contains);
            for (String lib : explicit) {
                String failure = source.libraries.attachExplicit(lib);
                if (failure != null) throw new BadLibrary("--tls-lib " + lib + ": " + failure);
            }
            source.libraries.scan();
            source.nextScan = System.nanoTime() + RESCAN_MILLIS * 1_000_000L;
            if (source.libraries.attached() == 0) {
                report.accept("no OpenSSL library found to probe: no HTTPS will be seen (--tls-lib PATH names one)");
            }
            return source;
        } catch (RuntimeException e) {
            capture.close();
            throw e;
        }
    }

    /** Takes the records waiting (without waiting), and rescans for libraries when it is time. */
    void poll() throws CaptureException {
        capture.poll(tracer::accept, tracer::tlsExecutable);
        long nowLost = capture.lostSamples();
        if (nowLost != lost) {
            lost = nowLost;
            tracer.tlsLost();
        }
        if (System.nanoTime() - nextScan >= 0) {
            libraries.scan();
            nextScan = System.nanoTime() + RESCAN_MILLIS * 1_000_000L;
        }
    }

    /** The TLS source's counters, for the exit summary (its text line, and --stats json). */
    record Stats(int libraries, long records, long lost, long streams, long socketUnknownStreams,
                 long bytesNotCopied) {}

    /** The exit summary's TLS line. */
    String summary() {
        Stats s = stats();
        return "tls: " + Summary.n(s.libraries(), "library", "libraries") + " probed, "
                + Summary.n(s.records(), "record") + ", " + s.lost() + " lost, "
                + Summary.n(s.streams(), "stream") + " (" + s.socketUnknownStreams() + " socket unknown), "
                + Summary.n(s.bytesNotCopied(), "byte") + " not copied";
    }

    Stats stats() {
        TlsTracker.Counters c = tracer.tlsCounters();
        return new Stats(libraries.attached(), capture.records(), capture.lostSamples(), c.streams(),
                c.unknownSockets(), c.skippedBytes());
    }

    @Override
    public void close() {
        capture.close();
    }
}
