package dev.httptrace.cli;

import dev.httptrace.capture.CaptureException;
import dev.httptrace.capture.HostFilter;
import dev.httptrace.capture.NativeCapture;
import dev.httptrace.capture.PcapReader;
import dev.httptrace.capture.PcapngWriter;
import dev.httptrace.capture.Segment;
import dev.httptrace.capture.SegmentFilter;
import dev.httptrace.exchange.ExchangeSink;
import dev.httptrace.export.KafkaCounters;
import dev.httptrace.export.KafkaExport;
import dev.httptrace.pipeline.Tracer;
import dev.httptrace.output.ExchangeFilter;
import dev.httptrace.output.HeaderSelection;
import dev.httptrace.output.JsonLinesWriter;
import dev.httptrace.output.OutputOptions;
import dev.httptrace.output.StatusRanges;
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
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The httptrace command: options, wiring of the pipeline, the poll loop, exit codes. */
@Command(name = "httptrace",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
            "Prints every HTTP exchange crossing a network interface as one JSON line",
            "(HTTP/1.x, and HTTP/2 and gRPC: one line per stream; h2c, and h2 inside TLS",
            "with --tls). It uses an eBPF socket filter: no proxy, no agent, no restart of",
            "the traced programs. Live tracing needs root, or CAP_BPF, CAP_NET_ADMIN,",
            "CAP_NET_RAW and CAP_PERFMON (the perf buffer, while kernel.perf_event_paranoid",
            "is above 0; --tls: always).",
            "",
            "Signals: Ctrl-C, Ctrl-\\, SIGTERM, SIGHUP (and SIGUSR1, SIGALRM, ...) stop",
            "a trace (live or -r): every record written, the summary, the exit code below.",
            "",
            "Output: one JSON object per exchange. The fields are described in",
            "share/doc/httptrace/README.md and the JSON Schema is",
            "share/httptrace/httptrace-exchange-v1.schema.json, under the install prefix",
            "(/usr/local unless chosen otherwise)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 0:done",
            " 1:failure",
            " 2:bad options",
            " 3:no permission",
            " 4:no such interface",
            " 5:BPF refused or unavailable",
            " 6:unreadable capture file",
            " 7:cannot write the -o/-w file",
            " 8:--fail-on: a status asked for was seen",
            " 9:--expect: too few exchanges (8 and 9: decided when the run ends, however it ends)",
            "10:--kafka: no broker answered (at start, before tracing)",
            "11:--kafka: no such topic (at start)",
            "12:--kafka: credentials refused (at start)",
            "13:--kafka: a record was not delivered"},
        footerHeading = "%nExamples:%n",
        footer = {
            "  sudo httptrace -i eth0 | jq 'select(.http.response.status_code >= 500)'",
            "  sudo httptrace -i lo -p 8080 -c 1 -d 30s   # one exchange, at most 30 s",
            "  sudo httptrace -i lo | jq -r '\"\\(.http.request.method) \\(.url.path)\"'",
            "  httptrace -r capture.pcap -f text          # offline, from tcpdump -w",
            "  sudo httptrace -i lo --host 10.0.0.0/8 --status 5xx --headers all",
            "  sudo httptrace -i lo -p 8080 -d 60s --fail-on 5xx --expect 1 -w t.pcapng",
            "  sudo httptrace --tls -p 443                # https too (OpenSSL's plaintext)",
            "  sudo httptrace -p 50051 | jq -c '[.rpc.method, .rpc.grpc.status_code]' # gRPC"})
public final class Main implements Callable<Integer> {

    enum Format { json, text }

    enum When { auto, always, never }

    enum StatsFormat { text, json }

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-i", "--iface"}, paramLabel = "NAME", split = ",",
            description = "Interface to trace (default, or 'any': all interfaces); repeatable or comma-separated, up to 16."
                    + " With --tls, the TLS connections whose socket is routed on it.")
    List<String> ifaces = new ArrayList<>();
    /** The interfaces asked for, comma-separated as the shim takes them; null: all. Set in validate(). */
    String iface;

    @Option(names = {"-D", "--list-interfaces"},
            description = "List the interfaces -i takes (index, name, state), as tcpdump -D does, and exit.")
    boolean listInterfaces;

    @Parameters(paramLabel = "EXPRESSION", arity = "0..*",
            description = "A tcpdump-style capture filter, translated to the kernel's --port and --host filters:"
                    + " port, portrange, host, net (CIDR), tcp, and, or, parentheses, e.g. 'port 9090 and host 10.0.0.5'."
                    + " Not supported (an error, never a wider filter): src, dst, not, other protocols,"
                    + " 'or' between ports and hosts.")
    List<String> expression = new ArrayList<>();

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
            description = "Read a pcap or pcapng capture (e.g. from tcpdump -w) instead of tracing live; '-' reads stdin, a pipe as it comes (tcpdump -U --immediate-mode -w -).")
    String readFile;

    @Option(names = {"-f", "--format"}, paramLabel = "FORMAT", defaultValue = "json",
            description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Format format;

    @Option(names = "--host", paramLabel = "ADDR|CIDR", split = ",",
            description = "Only connections with an address in this IPv4/IPv6 address or prefix at either end; repeatable or comma-separated, up to 64. Filtered in the kernel.")
    List<String> hosts = new ArrayList<>();

    @Option(names = "--method", paramLabel = "M", split = ",",
            description = "Only exchanges with this request method; repeatable or comma-separated.")
    List<String> methods = new ArrayList<>();

    @Option(names = "--path", paramLabel = "PREFIX",
            description = "Only exchanges whose URL path starts with PREFIX.")
    String pathPrefix;

    @Option(names = "--status", paramLabel = "STATUS", split = ",",
            description = "Only exchanges answered with this status: 404, 5xx or 400-499; repeatable or comma-separated (unanswered ones never match).")
    List<String> statuses = new ArrayList<>();

    @Option(names = "--headers", paramLabel = "WHICH", split = ",",
            description = "Headers in the header maps: default (a small useful set, see README), all, none, or header names (which may be added to default: default,x-tenant).")
    List<String> headers = new ArrayList<>();

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "Append the records to FILE instead of stdout (flushed per batch).")
    Path outputFile;

    @Option(names = {"-w", "--write"}, paramLabel = "FILE",
            description = "Also write the captured TCP segments to FILE as pcapng (for Wireshark, tshark or -r).")
    Path pcapFile;

    @Option(names = "--color", paramLabel = "WHEN", defaultValue = "auto",
            description = "Colour -f text by status class: ${COMPLETION-CANDIDATES} (default: auto: when stdout is a terminal and NO_COLOR is not set).")
    When color;

    @Option(names = "--stats", paramLabel = "FORMAT", defaultValue = "text",
            description = "Exit summary on stderr: text, or json (one JSON object, printed even with -q).")
    StatsFormat statsFormat;

    @Option(names = "--fail-on", paramLabel = "STATUS", split = ",",
            description = "Exit with 8 if an exchange with this status (404, 5xx, 400-499) was written.")
    List<String> failOnStatuses = new ArrayList<>();

    @Option(names = "--expect", paramLabel = "N",
            description = "Exit with 9 if fewer than N exchanges were written.")
    Long expect;

    @Option(names = "--snaplen", paramLabel = "BYTES", defaultValue = "" + NativeCapture.Settings.DEFAULT_SNAPLEN,
            description = "Payload bytes copied per TCP segment, 1 to 32768 (default: ${DEFAULT-VALUE}); HTTP/2 connections are copied whole.")
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

    @Option(names = "--ready-file", paramLabel = "PATH",
            description = "Once the filter is attached, write this file (holding the PID), for scripts to wait on.")
    String readyFile;

    @Option(names = "--user", paramLabel = "NAME",
            description = "Once the filter is attached, drop root and run on as this user (as tcpdump -Z).")
    String user;

    @Option(names = "--tls",
            description = "Also trace HTTPS: read the plaintext where OpenSSL (libssl, or a program exporting its API) hands it over, with the process at each end.")
    boolean tls;

    @Option(names = "--tls-lib", paramLabel = "PATH",
            description = "With --tls, also probe this library or executable (one exporting SSL_read and SSL_write); repeatable. Implies --tls.")
    List<String> tlsLibs = new ArrayList<>();

    @Option(names = "--kafka", paramLabel = "BROKERS",
            description = "Also send every record (the JSON line, after every filter) to Apache Kafka: bootstrap brokers host:port, comma-separated. See README \"Many hosts\".")
    String kafkaBrokers;

    @Option(names = "--kafka-topic", paramLabel = "TOPIC", defaultValue = "httptrace",
            description = "With --kafka: the topic, which must exist (default: ${DEFAULT-VALUE}).")
    String kafkaTopic;

    @Option(names = "--kafka-property", paramLabel = "KEY=VALUE",
            description = "With --kafka: a Kafka client property, passed as it is (e.g. security.protocol=SASL_SSL, compression.type=zstd); repeatable.")
    Map<String, String> kafkaProperties = new LinkedHashMap<>();

    @Option(names = "--kafka-only",
            description = "With --kafka: records go to Kafka only, not to stdout (the summary still goes to stderr).")
    boolean kafkaOnly;

    @Option(names = "--kafka-buffer", paramLabel = "RECORDS[,BYTES]", defaultValue = "100000,32m",
            description = "With --kafka: most records, and bytes (k, m, g), waiting for the broker; more are dropped and counted (default: ${DEFAULT-VALUE}).")
    String kafkaBuffer;

    @Option(names = "--kafka-timeout", paramLabel = "TIME", converter = DurationConverter.class, defaultValue = "10s",
            description = "With --kafka: how long the start-up check may take, and the flush of what is waiting at exit (default: ${DEFAULT-VALUE}).")
    Duration kafkaTimeout;

    @Option(names = {"-q", "--quiet"},
            description = "No 'tracing on' line and no summary on stderr.")
    boolean quiet;

    private final PrintWriter err = new PrintWriter(System.err, true);
    /** With --stats json: what would have been lines on stderr, for the JSON summary. */
    private final List<String> messages = Collections.synchronizedList(new ArrayList<>());
    private final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean stopRequested;
    /** The signal that stopped the trace, 0 if none. */
    private volatile int stopSignal;
    // Parsed in validate().
    private HostFilter hostFilter = HostFilter.ANY;
    private StatusRanges statusFilter;
    private StatusRanges failOn;
    private HeaderSelection headerSelection = HeaderSelection.DEFAULT;
    // Set when the pipeline is built and when a run ends.
    private Summary summary;
    private Verdict verdict;
    private Summary.Counters counters;
    /** The TLS source's line of the exit summary, when --tls was on. */
    private String tlsSummary;
    private TlsSource.Stats tlsStats;
    /** The Kafka export's counters at exit, when --kafka was on. */
    private KafkaCounters.Snapshot kafkaStats;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command and returns its exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        // "'abc' is not a number", not picocli's "'abc' is not a long".
        cli.registerConverter(Integer.class, Main::wholeNumber).registerConverter(Integer.TYPE, Main::wholeNumber);
        cli.registerConverter(Long.class, Main::longNumber).registerConverter(Long.TYPE, Main::longNumber);
        cli.setParameterExceptionHandler((ex, a) -> {
            PrintWriter e = ex.getCommandLine().getErr();
            String suggestion = ex instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()
                    ? " (did you mean " + u.getSuggestions().getFirst() + "?)" : "";
            e.println("httptrace: " + plain(ex.getMessage()) + suggestion);
            e.println("Try 'httptrace --help' for usage.");
            return ExitCode.USAGE;
        });
        return cli.execute(args);
    }

    @Override
    public Integer call() {
        if (listInterfaces) {
            return listInterfaces();
        }
        validate();
        // Live: this host's interfaces by index. Offline: only what the file says (pcapng if_name);
        // an index in a capture file is a position in the file, not an interface of this host.
        FileInterfaceNames fileNames = new FileInterfaceNames();
        IntFunction<String> names = readFile != null ? fileNames : new InterfaceNames()::name;
        int code;
        try (OutputFiles files = OutputFiles.open(outputFile, pcapFile, names)) {
            // Unbuffered: the writers buffer themselves and flush once per poll batch.
            OutputStream out = files.records() != null ? files.records() : new FileOutputStream(FileDescriptor.out);
            code = trace(out, files, names, fileNames);
        } catch (OutputFiles.Failed e) {
            code = fail(ExitCode.WRITE_ERROR, e.getMessage());
        }
        return finish(code);
    }

    private int trace(OutputStream out, OutputFiles files, IntFunction<String> names, FileInterfaceNames fileNames) {
        OutputOptions outputOptions = new OutputOptions(names, showSecrets,
                redactHeaders.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toSet()),
                headerSelection);
        var writer = switch (format) {
            case json -> new JsonLinesWriter(out, outputOptions);
            case text -> new TextWriter(out, outputOptions, color == When.always
                    || (color == When.auto && outputFile == null && Terminal.colourByDefault()),
                    readFile != null ? TextWriter.MIN_IFACE_WIDTH : longestInterfaceName());
        };
        KafkaExport export = null;
        ExchangeSink records = writer;
        if (kafkaBrokers != null) {
            try {
                export = KafkaExport.start(kafkaSettings(names));
            } catch (KafkaExport.StartFailed e) {
                return fail(KafkaWiring.exitCode(e.reason()), e.getMessage());
            }
            records = KafkaWiring.records(writer, kafkaOnly, outputOptions, export);
        }
        try {
            return trace(records, writer, files, names, fileNames);
        } finally {
            if (export != null) {
                export.close(); // what is waiting is delivered within --kafka-timeout, the rest counted
                kafkaStats = export.stats();
            }
        }
    }

    private int trace(ExchangeSink records, Flushable writer, OutputFiles files, IntFunction<String> names,
                      FileInterfaceNames fileNames) {
        Flushable flushable = files.pcap() == null ? writer : () -> {
            writer.flush();
            files.flushPcap();
        };
        verdict = new Verdict(records, failOn, expect == null ? 0 : expect);
        summary = new Summary(verdict);
        var limit = new ExchangeLimit(summary, count == null ? Long.MAX_VALUE : count);
        var filter = new ExchangeFilter(limit, Set.copyOf(methods), pathPrefix, statusFilter);
        var tracer = new Tracer(filter.passesAll() ? limit : filter, Tracer.Settings.defaults());
        Consumer<Segment> segments = files.pcap() == null ? tracer::accept : s -> {
            files.writePcap(s);
            tracer.accept(s);
        };
        try {
            return readFile != null
                    ? readOffline(tracer, segments, limit, flushable, fileNames)
                    : traceLive(tracer, segments, limit, flushable);
        } catch (UncheckedIOException | StdoutClosed e) {
            if (outputFile != null) {
                return fail(ExitCode.WRITE_ERROR, "cannot write " + outputFile
                        + (e.getCause() == null ? "" : ": " + e.getCause().getMessage()));
            }
            return ExitCode.OK; // stdout closed (e.g. | head): a normal way to stop
        }
    }

    private KafkaExport.Settings kafkaSettings(IntFunction<String> names) {
        long[] buffer = KafkaWiring.buffer(kafkaBuffer);
        // The periodic line while records are not delivered: a line on stderr, or with --stats
        // json one of the summary's messages (info() says which; nothing with -q).
        return new KafkaExport.Settings(kafkaBrokers, kafkaTopic, kafkaProperties, (int) buffer[0], buffer[1],
                kafkaTimeout, KafkaExport.localHostName(), names,
                quiet && !jsonStats() ? null : this::info, Duration.ofSeconds(10));
    }

    /**
     * The verdict of --fail-on / --expect on a run that went well, and the exit summary. With
     * --stats json that summary is all of stderr: one JSON object holding the verdict, the
     * messages and errors (printed as lines only when the run ended before it had a summary).
     */
    private int finish(int code) {
        boolean verdictLines = code == ExitCode.OK && verdict != null && verdict.exitCode() != ExitCode.OK;
        if ((stopSignal == Signals.SIGINT || stopSignal == Signals.SIGQUIT) && Terminal.isTerminal(2)
                && (verdictLines || counters != null && (!quiet || jsonStats()))) {
            err.println(); // the terminal echoed ^C (or ^\): the summary starts on a line of its own
        }
        if (code == ExitCode.OK && verdict != null) {
            code = verdict.exitCode();
            if (code != ExitCode.OK && !jsonStats()) {
                for (String reason : verdict.reasons()) {
                    err.println("httptrace: " + reason);
                }
            }
        }
        if (code == ExitCode.OK && kafkaStats != null && kafkaStats.notDelivered() > 0) {
            code = ExitCode.KAFKA_UNDELIVERED;
            String why = "kafka: " + kafkaStats.notDelivered() + " of " + kafkaStats.records()
                    + " records not delivered (" + kafkaStats.causes() + ")";
            if (jsonStats()) {
                errors.add(why);
            } else {
                err.println("httptrace: " + why);
            }
        }
        if (summary != null && kafkaStats != null) {
            summary.kafka(kafkaStats, kafkaTopic);
        }
        if (jsonStats()) {
            if (counters != null) {
                err.println(summary.json(counters, verdict, code, List.copyOf(messages), List.copyOf(errors)));
            } else {
                errors.forEach(e -> err.println("httptrace: " + e));
            }
        } else if (counters != null && !quiet) {
            for (String line : summary.text(counters)) {
                err.println("httptrace: " + line);
            }
            if (tlsSummary != null) {
                err.println("httptrace: " + tlsSummary);
            }
            if (kafkaStats != null) {
                err.println("httptrace: " + KafkaExport.line(kafkaStats) + " (topic " + kafkaTopic + ")");
            }
        }
        return code;
    }

    /** picocli's messages in the style of httptrace's own: "--count: 'abc' is not a whole number". */
    static String plain(String message) {
        if (message == null) {
            return "bad options";
        }
        return message
                .replaceFirst("^Invalid value for option '([^']+)'(?: \\([^)]*\\))?: ", "$1: ")
                .replaceFirst("^Missing required parameter for option '([^']+)' \\(([^)]*)\\)", "$1 needs a value ($2)")
                .replaceFirst("^Unknown options?: ", "unknown option ")
                .replaceFirst("^Unmatched arguments? from index \\d+: ", "unexpected argument ");
    }

    private static Integer wholeNumber(String text) {
        long n = longNumber(text);
        if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
            throw new CommandLine.TypeConversionException("'" + text + "' is too large");
        }
        return (int) n;
    }

    private static Long longNumber(String text) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not a whole number");
        }
    }

    /** -D: this host's interfaces by index, then 'any', on stdout. */
    private int listInterfaces() {
        try {
            PrintWriter out = new PrintWriter(System.out, true);
            for (NetworkInterface nif : NetworkInterface.networkInterfaces()
                    .sorted(java.util.Comparator.comparingInt(NetworkInterface::getIndex)).toList()) {
                List<String> state = new ArrayList<>();
                if (nif.isUp()) state.add("Up");
                if (nif.isLoopback()) state.add("Loopback");
                if (nif.isVirtual()) state.add("Virtual");
                out.println(nif.getIndex() + "." + nif.getName() + (state.isEmpty() ? "" : " [" + String.join(", ", state) + "]"));
            }
            out.println("any (all interfaces, as without -i)");
            return ExitCode.OK;
        } catch (SocketException e) {
            return fail(ExitCode.FAILURE, "cannot list interfaces: " + e.getMessage());
        }
    }

    private void validate() {
        // 'any' is tcpdump's name for all interfaces.
        List<String> named = ifaces.stream().distinct().toList();
        iface = named.isEmpty() || named.contains("any") ? null : String.join(",", named);
        if (named.size() > 16) {
            throw new ParameterException(spec.commandLine(), "at most 16 interfaces");
        }
        if (!expression.isEmpty()) {
            FilterExpression.Translation t;
            try {
                t = FilterExpression.translate(expression);
            } catch (FilterExpression.Unsupported e) {
                throw new ParameterException(spec.commandLine(), "filter expression: " + e.getMessage());
            }
            if (!t.ports().isEmpty() && !ports.isEmpty() || !t.hosts().isEmpty() && !hosts.isEmpty()) {
                throw new ParameterException(spec.commandLine(),
                        "filter expression: give ports (hosts) either with -p (--host) or in the expression, not both");
            }
            ports.addAll(t.ports());
            hosts.addAll(t.hosts());
        }
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
        if (readFile != null && (readyFile != null || user != null)) {
            throw new ParameterException(spec.commandLine(), "--ready-file and --user are for live tracing, not --read");
        }
        if (!tlsLibs.isEmpty()) {
            tls = true;
        }
        if (readFile != null && tls) {
            throw new ParameterException(spec.commandLine(), "--tls traces live processes, not --read");
        }
        for (String lib : tlsLibs) {
            if (!Files.isReadable(Path.of(lib)) || Files.isDirectory(Path.of(lib))) {
                throw new ParameterException(spec.commandLine(), "--tls-lib: cannot read '" + lib + "'");
            }
        }
        if (expect != null && expect < 1) {
            throw new ParameterException(spec.commandLine(), "--expect must be at least 1");
        }
        if (pathPrefix != null && !pathPrefix.startsWith("/")) {
            throw new ParameterException(spec.commandLine(), "--path must start with '/' (it is a URL path prefix)");
        }
        for (String m : methods) {
            if (m.isBlank() || !m.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new ParameterException(spec.commandLine(), "--method: '" + m + "' is not a method name");
            }
        }
        try {
            hostFilter = HostFilter.parse(hosts);
            headerSelection = HeaderSelection.parse(headers);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (kafkaBrokers == null && (kafkaOnly || !kafkaProperties.isEmpty())) {
            throw new ParameterException(spec.commandLine(), "--kafka-only and --kafka-property need --kafka");
        }
        if (kafkaOnly && outputFile != null) {
            throw new ParameterException(spec.commandLine(), "--kafka-only and --output exclude each other");
        }
        try {
            KafkaWiring.buffer(kafkaBuffer);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--kafka-buffer: " + e.getMessage());
        }
        statusFilter = statuses("--status", statuses);
        failOn = statuses("--fail-on", failOnStatuses);
    }

    /** The account --user names; a name the system does not know is a bad option. */
    private Privileges.Account account() {
        return Privileges.lookup(user).orElseThrow(() ->
                new ParameterException(spec.commandLine(), "--user: no user named '" + user + "'"));
    }

    /** The --ready-file, checked and cleared of a stale copy before anything is attached. */
    private ReadyFile prepareReadyFile() {
        try {
            return ReadyFile.prepare(readyFile);
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "--ready-file " + readyFile + ": " + e.getMessage());
        }
    }

    /**
     * After attaching: the ready file, then dropping root (--user). Returns an exit code when
     * either fails, else null.
     */
    private Integer afterAttach(ReadyFile ready, Privileges.Account account) {
        if (ready != null) {
            try {
                ready.write();
            } catch (IOException e) {
                return fail(ExitCode.FAILURE, "cannot write --ready-file " + ready + ": " + e.getMessage());
            }
        }
        if (account != null) {
            try {
                Privileges.switchTo(account);
            } catch (Privileges.SwitchFailed e) {
                if (ready != null) {
                    ready.remove();
                }
                return fail(ExitCode.PERMISSION, "cannot switch to user '" + account.name() + "' ("
                        + e.getMessage() + "): needs root or CAP_SETUID and CAP_SETGID");
            }
        }
        return null;
    }

    private StatusRanges statuses(String option, List<String> values) {
        try {
            return values.isEmpty() ? null : StatusRanges.parse(values);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), option + ": " + e.getMessage());
        }
    }

    private int traceLive(Tracer tracer, Consumer<Segment> segments, ExchangeLimit limit, Flushable writer) {
        if (iface != null) {
            try {
                for (String name : iface.split(",")) {
                    if (NetworkInterface.getByName(name) == null) {
                        return fail(ExitCode.NO_SUCH_INTERFACE, "no interface named '" + name + "' (interfaces: "
                                + interfaceList() + ")");
                    }
                }
            } catch (SocketException e) {
                return fail(ExitCode.FAILURE, "cannot list interfaces: " + e.getMessage());
            }
        }
        Privileges.Account account = user == null ? null : account();
        ReadyFile ready = readyFile == null ? null : prepareReadyFile();
        var settings = new NativeCapture.Settings(snaplen, List.copyOf(new LinkedHashSet<>(ports)), perfPages);
        // Ctrl-C, SIGTERM, SIGHUP, Ctrl-\ ... end the loop like --count does: detach, summarise,
        // exit 0 or the verdict (as tcpdump).
        Signals.onStop(signum -> {
            stopSignal = signum;
            stopRequested = true;
        });
        NativeCapture.Stats stats = null;
        TlsSource tlsSource = null;
        try (NativeCapture capture = NativeCapture.open(settings); StdoutWatch stdoutWatch = new StdoutWatch()) {
            capture.filterHosts(hostFilter);
            // HTTP/2 recognised mid-way: the kernel copies its segments whole from then on.
            tracer.captureWholeHttp2(c -> capture.captureWhole(c.address(0), c.port(0), c.address(1), c.port(1)));
            capture.attach(iface);
            if (tls) {
                tlsSource = TlsSource.start(tracer, capture, perfPages, ports, hostFilter, ifindexes(iface), tlsLibs,
                        line -> info("tls: " + line));
            }
            if (tls && pcapFile != null) {
                info("-w " + pcapFile + " holds the packets only, not the TLS plaintext: -r of it gives no HTTPS records");
            }
            Integer failed = afterAttach(ready, account);
            if (failed != null) {
                return failed;
            }
            if (!quiet && !jsonStats()) { // --stats json: stderr is the summary alone; --ready-file says when
                err.println("httptrace: tracing on " + (iface == null ? "all interfaces" : iface)
                        + (ports.isEmpty() ? "" : ", port " + ports.stream().distinct().map(String::valueOf)
                                .collect(Collectors.joining(",")))
                        + (hosts.isEmpty() ? "" : ", host " + String.join(",", hosts))
                        + (account == null ? "" : ", as user " + account.name())
                        + "; Ctrl-C to stop");
            }
            long deadline = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
            try {
                while (!stopRequested && !limit.reached() && System.nanoTime() < deadline) {
                    // With --tls, the TLS rings are read between waits: wait less, so they never fill.
                    capture.poll(tlsSource == null ? 100 : TlsSource.POLL_MILLIS, segments, tracer::captureLost);
                    if (tlsSource != null) {
                        tlsSource.poll();
                    }
                    tracer.expire(System.currentTimeMillis() * 1_000_000L);
                    flush(writer);
                    if (stdoutWatch.closed()) {
                        throw new StdoutClosed();
                    }
                }
                if (!limit.reached()) {
                    capture.finish(segments, tracer::captureLost); // what the rings still hold of traffic before the stop
                    if (tlsSource != null) {
                        tlsSource.poll();
                    }
                    tracer.finish(); // report requests still waiting for an answer
                }
                flush(writer);
            } finally {
                stats = capture.stats();
            }
        } catch (CaptureException e) {
            return fail(exitCode(e.reason()), e.getMessage());
        } catch (TlsSource.BadLibrary e) {
            // A bad option found late (the file had to be probed): the usage hint of any other.
            return fail(ExitCode.USAGE, e.getMessage() + (jsonStats() ? "" : System.lineSeparator()
                    + "(--tls-lib names a library or program that exports OpenSSL's SSL_read and SSL_write,"
                    + " e.g. a libssl.so.3)" + System.lineSeparator() + "Try 'httptrace --help' for usage."));
        } finally {
            if (tlsSource != null) {
                tlsSummary = tlsSource.summary();
                tlsStats = tlsSource.stats();
                tlsSource.close(); // every uprobe detached
            }
            if (stats != null) {
                counters = new Summary.Counters(stats, null, tracer.stats(), tlsStats);
            }
        }
        return ExitCode.OK;
    }

    private int readOffline(Tracer tracer, Consumer<Segment> segments, ExchangeLimit limit, Flushable writer,
                            FileInterfaceNames names) {
        var filter = new SegmentFilter(Set.copyOf(ports), hostFilter);
        boolean stdin = readFile.equals("-");
        // A signal stops the read as it stops a live trace: what was read is reported, the summary printed.
        Signals.onStop(signum -> {
            stopSignal = signum;
            stopRequested = true;
        });
        // stdin may be a pipe from a live capture (tcpdump -U -w -): records as exchanges complete.
        try (InputStream file = stdin ? new PipeInput(0, () -> stopRequested, () -> flush(writer))
                : Files.newInputStream(Path.of(readFile))) {
            Progress progress = quiet || jsonStats() || !Terminal.isTerminal(2) ? null
                    : new Progress(System.err, stdin ? "stdin" : readFile, stdin ? -1 : Files.size(Path.of(readFile)));
            InputStream in = progress == null ? file : progress.counting(file);
            try (PcapReader reader = new PcapReader(new BufferedInputStream(in, 1 << 16))) {
                names.reader = reader;
                Segment segment;
                long n = 0;
                while (!stopRequested && !limit.reached() && (segment = reader.next()) != null) {
                    if (filter.accepts(segment)) {
                        segments.accept(segment);
                    }
                    if (++n % 1024 == 0) {
                        flush(writer);
                        if (progress != null) {
                            progress.update(n);
                        }
                    }
                }
                if (progress != null) {
                    progress.finish();
                }
                if (!limit.reached()) {
                    tracer.finish();
                }
                flush(writer);
                counters = new Summary.Counters(null, reader.stats(), tracer.stats());
                return ExitCode.OK;
            }
        } catch (NoSuchFileException e) {
            return fail(ExitCode.READ_ERROR, "cannot read " + readFile + ": no such file");
        } catch (IOException e) {
            return fail(ExitCode.READ_ERROR, "cannot read " + readFile + ": " + e.getMessage());
        }
    }

    private void flush(Flushable writer) {
        try {
            writer.flush();
        } catch (IOException e) {
            throw new StdoutClosed();
        }
    }

    private int fail(int code, String message) {
        if (jsonStats()) {
            errors.add(message); // into the JSON summary (see finish)
        } else {
            err.println("httptrace: " + message);
        }
        return code;
    }

    /** A line for the user on stderr (not with -q); with --stats json, one of the summary's messages. */
    private void info(String line) {
        if (jsonStats()) {
            messages.add(line);
        } else if (!quiet) {
            err.println("httptrace: " + line);
        }
    }

    private boolean jsonStats() {
        return statsFormat == StatsFormat.json;
    }

    private static int exitCode(CaptureException.Reason reason) {
        return switch (reason) {
            case PERMISSION -> ExitCode.PERMISSION;
            case NO_SUCH_INTERFACE -> ExitCode.NO_SUCH_INTERFACE;
            case BPF_REJECTED, NATIVE_LIBRARY -> ExitCode.BPF;
            case IO, OTHER -> ExitCode.FAILURE;
        };
    }

    /** The indexes of the interfaces {@code names} (comma-separated), empty for null (all interfaces). */
    private static Set<Integer> ifindexes(String names) throws CaptureException {
        if (names == null) {
            return Set.of();
        }
        Set<Integer> out = new java.util.HashSet<>();
        for (String name : names.split(",")) {
            try {
                NetworkInterface nif = NetworkInterface.getByName(name);
                if (nif == null) {
                    throw new CaptureException(CaptureException.Reason.NO_SUCH_INTERFACE, "no interface named '" + name + "'");
                }
                out.add(nif.getIndex());
            } catch (SocketException e) {
                throw new CaptureException(CaptureException.Reason.OTHER, "cannot list interfaces: " + e.getMessage());
            }
        }
        return out;
    }

    /** Length of this host's longest interface name (the -f text column), 0 when they cannot be listed. */
    private static int longestInterfaceName() {
        try {
            return NetworkInterface.networkInterfaces().mapToInt(n -> n.getName().length()).max().orElse(0);
        } catch (SocketException e) {
            return 0;
        }
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
            // e.g. "httptrace 0.1.0 (commit 61e9ae8abcd1-dirty)": dirty = built with uncommitted changes
            return new String[] {"httptrace " + p.getProperty("version", "unknown")
                    + " (commit " + p.getProperty("commit", "unknown") + ")"};
        }
    }
}
