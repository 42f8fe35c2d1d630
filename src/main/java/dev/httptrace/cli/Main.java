package dev.httptrace.cli;

import dev.httptrace.capture.CaptureException;
import dev.httptrace.capture.NativeCapture;
import dev.httptrace.capture.PcapReader;
import dev.httptrace.capture.Segment;
import dev.httptrace.capture.SegmentFilter;
import dev.httptrace.http.HttpTracer;
import dev.httptrace.output.JsonLinesWriter;
import dev.httptrace.output.OutputOptions;
import dev.httptrace.output.TextWriter;
import java.io.BufferedInputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.Flushable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The httptrace command: options, wiring of the pipeline, the poll loop, exit codes. */
@Command(name = "httptrace",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
            "Prints every HTTP/1.x exchange crossing a network interface as one JSON line,",
            "using an eBPF socket filter: no proxy, no agent, no restart of the traced programs.",
            "Needs root (or CAP_BPF, CAP_NET_ADMIN and CAP_NET_RAW) for live tracing."},
        footerHeading = "%nExamples:%n",
        footer = {
            "  sudo httptrace -i eth0 | jq 'select(.http.response.status_code >= 500)'",
            "  sudo httptrace -i lo -p 8080 -c 1 -d 30s   # one exchange, at most 30 s",
            "  sudo httptrace -i lo | jq -r '\"\\(.http.request.method) \\(.url.path)\"'",
            "  httptrace -r capture.pcap -f text          # offline, from tcpdump -w",
            "",
            "Exit codes: 0 done, 1 failure, 2 bad options, 3 no permission,",
            "  4 no such interface, 5 BPF refused or unavailable, 6 unreadable capture file.",
            "Output: one JSON object per exchange, schema in README.md and in",
            "  src/main/resources/schema/httptrace-exchange-v1.schema.json"})
public final class Main implements Callable<Integer> {

    enum Format { json, text }

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-i", "--iface"}, paramLabel = "NAME",
            description = "Interface to trace (default: all interfaces).")
    String iface;

    @Option(names = {"-p", "--port"}, paramLabel = "PORT", split = ",",
            description = "Trace only connections with this port at either end; repeatable or comma-separated (default: all ports).")
    List<Integer> ports = new ArrayList<>();

    @Option(names = {"-c", "--count"}, paramLabel = "N",
            description = "Stop after N exchanges.")
    Long count;

    @Option(names = {"-d", "--duration"}, paramLabel = "TIME", converter = DurationConverter.class,
            description = "Stop after this long, e.g. 500ms, 30s, 5m, 2h.")
    Duration duration;

    @Option(names = {"-r", "--read"}, paramLabel = "FILE",
            description = "Read a pcap or pcapng capture (e.g. from tcpdump -w) instead of tracing live; '-' reads stdin.")
    String readFile;

    @Option(names = {"-f", "--format"}, paramLabel = "FORMAT", defaultValue = "json",
            description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Format format;

    @Option(names = "--snaplen", paramLabel = "BYTES", defaultValue = "" + NativeCapture.Settings.DEFAULT_SNAPLEN,
            description = "Payload bytes copied per TCP segment, 1 to 32768 (default: ${DEFAULT-VALUE}).")
    int snaplen;

    @Option(names = "--show-secrets",
            description = "Print Authorization, Proxy-Authorization, Cookie and Set-Cookie values instead of [REDACTED].")
    boolean showSecrets;

    @Option(names = "--redact-header", paramLabel = "NAME", split = ",",
            description = "Also redact this header's value; repeatable.")
    List<String> redactHeaders = new ArrayList<>();

    @Option(names = "--perf-pages", paramLabel = "PAGES", defaultValue = "" + NativeCapture.Settings.DEFAULT_PERF_PAGES,
            description = "Perf buffer size per CPU in pages, a power of two (default: ${DEFAULT-VALUE}).")
    int perfPages;

    @Option(names = {"-q", "--quiet"},
            description = "No 'tracing on' line and no summary on stderr.")
    boolean quiet;

    private final PrintWriter err = new PrintWriter(System.err, true);
    private volatile boolean stopRequested;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command and returns its exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setParameterExceptionHandler((ex, a) -> {
            PrintWriter e = ex.getCommandLine().getErr();
            e.println("httptrace: " + ex.getMessage());
            e.println("Try 'httptrace --help' for usage.");
            return ExitCode.USAGE;
        });
        return cli.execute(args);
    }

    @Override
    public Integer call() {
        validate();
        // Unbuffered: the writers buffer themselves and flush once per poll batch.
        OutputStream stdout = new FileOutputStream(FileDescriptor.out);
        // Live: this host's interfaces by index. Offline: only what the file says (pcapng if_name);
        // an index in a capture file is a position in the file, not an interface of this host.
        FileInterfaceNames fileNames = new FileInterfaceNames();
        IntFunction<String> names = readFile != null ? fileNames : new InterfaceNames()::name;
        OutputOptions outputOptions = new OutputOptions(names, showSecrets,
                redactHeaders.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toSet()));
        var writer = switch (format) {
            case json -> new JsonLinesWriter(stdout, outputOptions);
            case text -> new TextWriter(stdout, outputOptions);
        };
        var limit = new ExchangeLimit(writer::exchange, count == null ? Long.MAX_VALUE : count);
        var tracer = new HttpTracer(limit, HttpTracer.Settings.defaults());
        try {
            return readFile != null
                    ? readOffline(tracer, limit, writer, fileNames)
                    : traceLive(tracer, limit, writer);
        } catch (UncheckedIOException | StdoutClosed e) {
            return ExitCode.OK; // stdout closed (e.g. | head): a normal way to stop
        }
    }

    private void validate() {
        for (int port : ports) {
            if (port < 1 || port > 65535) {
                throw new ParameterException(spec.commandLine(), "invalid port " + port + " (1 to 65535)");
            }
        }
        if (new LinkedHashSet<>(ports).size() > NativeCapture.Settings.MAX_PORTS) {
            throw new ParameterException(spec.commandLine(), "at most " + NativeCapture.Settings.MAX_PORTS + " ports");
        }
        if (count != null && count < 1) {
            throw new ParameterException(spec.commandLine(), "--count must be at least 1");
        }
        if (snaplen < 1 || snaplen > NativeCapture.Settings.MAX_SNAPLEN) {
            throw new ParameterException(spec.commandLine(),
                    "--snaplen must be between 1 and " + NativeCapture.Settings.MAX_SNAPLEN);
        }
        if (perfPages < 1 || Integer.bitCount(perfPages) != 1) {
            throw new ParameterException(spec.commandLine(), "--perf-pages must be a power of two");
        }
        if (readFile != null && iface != null) {
            throw new ParameterException(spec.commandLine(), "--read and --iface exclude each other");
        }
    }

    private int traceLive(HttpTracer tracer, ExchangeLimit limit, Flushable writer) {
        if (iface != null) {
            try {
                if (NetworkInterface.getByName(iface) == null) {
                    return fail(ExitCode.NO_SUCH_INTERFACE, "no interface named '" + iface + "' (interfaces: "
                            + interfaceList() + ")");
                }
            } catch (SocketException e) {
                return fail(ExitCode.FAILURE, "cannot list interfaces: " + e.getMessage());
            }
        }
        var settings = new NativeCapture.Settings(snaplen, List.copyOf(new LinkedHashSet<>(ports)), perfPages);
        // Ctrl-C / SIGTERM end the loop like --count does: detach, summarise, exit 0 (as tcpdump).
        Signals.onInterrupt(() -> stopRequested = true);
        NativeCapture.Stats stats = null;
        try (NativeCapture capture = NativeCapture.open(settings); StdoutWatch stdoutWatch = new StdoutWatch()) {
            capture.attach(iface);
            if (!quiet) {
                err.println("httptrace: tracing on " + (iface == null ? "all interfaces" : iface)
                        + (ports.isEmpty() ? "" : ", port " + ports.stream().distinct().map(String::valueOf)
                                .collect(Collectors.joining(",")))
                        + "; Ctrl-C to stop");
            }
            long deadline = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
            try {
                while (!stopRequested && !limit.reached() && System.nanoTime() < deadline) {
                    capture.poll(100, tracer::accept);
                    tracer.expire(System.currentTimeMillis() * 1_000_000L);
                    flush(writer);
                    if (stdoutWatch.closed()) {
                        throw new StdoutClosed();
                    }
                }
                if (!limit.reached()) {
                    tracer.finish(); // report requests still waiting for an answer
                }
                flush(writer);
            } finally {
                stats = capture.stats();
            }
        } catch (CaptureException e) {
            return fail(exitCode(e.reason()), e.getMessage());
        } finally {
            if (!quiet && stats != null) {
                summary(tracer, stats);
            }
        }
        return ExitCode.OK;
    }

    private int readOffline(HttpTracer tracer, ExchangeLimit limit, Flushable writer, FileInterfaceNames names) {
        var filter = new SegmentFilter(Set.copyOf(ports));
        try (InputStream in = readFile.equals("-") ? System.in : Files.newInputStream(Path.of(readFile));
             PcapReader reader = new PcapReader(new BufferedInputStream(in, 1 << 16))) {
            names.reader = reader;
            Segment segment;
            long n = 0;
            while (!limit.reached() && (segment = reader.next()) != null) {
                if (filter.accepts(segment)) {
                    tracer.accept(segment);
                }
                if (++n % 1024 == 0) {
                    flush(writer);
                }
            }
            if (!limit.reached()) {
                tracer.finish();
            }
            flush(writer);
            if (!quiet) {
                var s = reader.stats();
                err.println("httptrace: read " + s.packets() + " packets (" + s.nonTcp() + " not TCP, "
                        + s.malformed() + " malformed)");
                summary(tracer, null);
            }
            return ExitCode.OK;
        } catch (NoSuchFileException e) {
            return fail(ExitCode.READ_ERROR, "cannot read " + readFile + ": no such file");
        } catch (IOException e) {
            return fail(ExitCode.READ_ERROR, "cannot read " + readFile + ": " + e.getMessage());
        }
    }

    private void summary(HttpTracer tracer, NativeCapture.Stats kernel) {
        var s = tracer.stats();
        StringBuilder line = new StringBuilder("httptrace: ");
        if (kernel != null) {
            line.append(kernel.packets()).append(" packets, ")
                .append(kernel.emitted()).append(" segments captured, ")
                // A full ring both fails the kernel's write and is reported as lost samples: count it once.
                .append(Math.max(kernel.lostSamples(), kernel.emitFailed()) + kernel.overflow()).append(" lost, ");
        }
        line.append(s.exchanges()).append(" exchanges (").append(s.unanswered()).append(" unanswered), ")
            .append(s.requests()).append(" requests, ").append(s.responses()).append(" responses, ")
            .append(s.parseErrors()).append(" parse errors, ")
            .append(s.nonHttpFlows()).append(" non-HTTP flows, ")
            .append(s.gaps()).append(" gaps, ")
            .append(s.retransmittedSegments()).append(" retransmitted segments, ")
            .append(s.interfaceCopies()).append(" copies from other interfaces");
        err.println(line);
    }

    private void flush(Flushable writer) {
        try {
            writer.flush();
        } catch (IOException e) {
            throw new StdoutClosed();
        }
    }

    private int fail(int code, String message) {
        err.println("httptrace: " + message);
        return code;
    }

    private static int exitCode(CaptureException.Reason reason) {
        return switch (reason) {
            case PERMISSION -> ExitCode.PERMISSION;
            case NO_SUCH_INTERFACE -> ExitCode.NO_SUCH_INTERFACE;
            case BPF_REJECTED, NATIVE_LIBRARY -> ExitCode.BPF;
            case IO, OTHER -> ExitCode.FAILURE;
        };
    }

    private static String interfaceList() throws SocketException {
        return NetworkInterface.networkInterfaces().map(NetworkInterface::getName).sorted()
                .collect(Collectors.joining(", "));
    }

    /** Interface names by index, looked up once each. */
    private static final class InterfaceNames {
        private final Map<Integer, String> names = new HashMap<>();

        String name(int ifindex) {
            if (ifindex <= 0) {
                return null;
            }
            return names.computeIfAbsent(ifindex, i -> {
                try {
                    NetworkInterface nif = NetworkInterface.getByIndex(i);
                    return nif == null ? "if" + i : nif.getName();
                } catch (SocketException e) {
                    return "if" + i;
                }
            });
        }
    }

    /** Interface names a capture file gives (pcapng if_name), or none (classic pcap, unnamed). */
    private static final class FileInterfaceNames implements IntFunction<String> {
        PcapReader reader;

        @Override
        public String apply(int ifindex) {
            return reader == null ? null : reader.interfaceName(ifindex);
        }
    }

    /** Thrown out of the loop when stdout is closed. */
    private static final class StdoutClosed extends RuntimeException {
        StdoutClosed() {
            super(null, null, false, false);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("/httptrace-version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"httptrace " + p.getProperty("version", "unknown")};
        }
    }
}
