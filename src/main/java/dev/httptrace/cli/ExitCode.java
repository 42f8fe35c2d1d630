package dev.httptrace.cli;

/** The exit codes httptrace documents (README "Exit codes"). */
public final class ExitCode {
    /** Traced until told to stop (count, duration, Ctrl-C, SIGTERM, closed stdout). */
    public static final int OK = 0;
    /** An unexpected failure while tracing. */
    public static final int FAILURE = 1;
    /** Bad options: usage printed. */
    public static final int USAGE = 2;
    /** Not root / missing CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN or CAP_NET_RAW. */
    public static final int PERMISSION = 3;
    /** The interface given with --iface does not exist. */
    public static final int NO_SUCH_INTERFACE = 4;
    /** The kernel refused the BPF program, or has no BPF support; or the native library is unusable. */
    public static final int BPF = 5;
    /** A capture file given with --read cannot be read. */
    public static final int READ_ERROR = 6;
    /** The file given with -o or -w cannot be written. */
    public static final int WRITE_ERROR = 7;
    /** --fail-on: an exchange with one of the given statuses was written. */
    public static final int FAIL_ON = 8;
    /** --expect N: fewer than N exchanges were written. */
    public static final int EXPECT = 9;
    /** --kafka: no broker answered the start-up check within --kafka-timeout. */
    public static final int KAFKA_UNREACHABLE = 10;
    /** --kafka: the topic does not exist. */
    public static final int KAFKA_NO_TOPIC = 11;
    /** --kafka: the broker refused the credentials, or the topic may not be described. */
    public static final int KAFKA_REFUSED = 12;
    /** --kafka: at least one record was not delivered (dropped, refused, timed out, unsent at exit). */
    public static final int KAFKA_UNDELIVERED = 13;

    private ExitCode() {}
}
