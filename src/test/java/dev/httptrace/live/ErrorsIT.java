package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What a user sees when something is wrong: one clear line and a documented exit code. */
class ErrorsIT {

    @Test
    void unknownInterfaceNamesTheOnesThatExist() throws Exception {
        try (var tracer = TracerProcess.start("-i nosuch0", "")) {
            assertEquals(4, tracer.waitFor(120));
            assertEquals(List.of(), tracer.stdout());
            assertEquals(1, tracer.stderr().size(), "one line: " + tracer.stderr());
            String line = lastLine(tracer);
            assertTrue(line.startsWith("httptrace: no interface named 'nosuch0' (interfaces: "), line);
            assertTrue(line.contains("lo"), line);
        }
    }

    @Test
    void badOptionPrintsUsageHintAndExitsTwo() throws Exception {
        try (var tracer = TracerProcess.start("--port 70000", "")) {
            assertEquals(2, tracer.waitFor(120));
            assertTrue(tracer.stderr().contains("httptrace: invalid port 70000 (1 to 65535)"), tracer.stderr().toString());
        }
        try (var tracer = TracerProcess.start("--frobnicate", "")) {
            assertEquals(2, tracer.waitFor(120));
            assertTrue(tracer.stderr().get(0).startsWith("httptrace: unknown option '--frobnicate'"), tracer.stderr().toString());
        }
    }

    @Test
    void nonRootUserIsToldToRunAsRoot() throws Exception {
        Live.requireRoot(); // to become another user we must be root first
        // setpriv drops to 'nobody' with no capabilities. nobody runs httptrace as installed
        // (make install into a directory anyone can enter): the checkout may be in a 0700 home.
        var command = List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "--inh-caps=-all", Installed.launcher().toString(), "-i", "lo");
        try (var tracer = new TracerProcess(command, Installed.destdir())) {
            assertEquals(3, tracer.waitFor(60), "stderr: " + tracer.stderr());
            assertEquals(List.of(), tracer.stdout());
            assertEquals(1, tracer.stderr().size(), "one line: " + tracer.stderr());
            String line = lastLine(tracer);
            assertTrue(line.startsWith("httptrace: ") && line.contains("run as root"), line);
            // Issue 21: every capability live tracing needs is named (CAP_NET_RAW was missing).
            assertTrue(line.endsWith("run as root, or with CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and CAP_NET_RAW"), line);
        }
    }

    /** Issue 21: each step that is refused says which capability it needs, the raw socket CAP_NET_RAW. */
    @Test
    void theStepThatIsRefusedNamesItsCapability() throws Exception {
        Live.requireRoot();
        var caps = "+bpf,+net_admin,+perfmon"; // no CAP_NET_RAW
        var command = List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "--inh-caps=" + caps, "--ambient-caps=" + caps, Installed.launcher().toString(), "-i", "lo", "-p", "9");
        try (var tracer = new TracerProcess(command, Installed.destdir())) {
            assertEquals(3, tracer.waitFor(60), "stderr: " + tracer.stderr());
            String line = lastLine(tracer);
            assertTrue(line.contains("raw packet socket") && line.contains("it needs CAP_NET_RAW"), line);
        }
    }

    @Test
    void helpAndVersion() throws Exception {
        try (var tracer = TracerProcess.start("--help", "")) {
            assertEquals(0, tracer.waitFor(120));
            String help = String.join("\n", tracer.stdout());
            assertTrue(help.contains("--iface") && help.contains("Exit codes") && help.contains("jq"), help);
        }
        try (var tracer = TracerProcess.start("-V", "")) {
            assertEquals(0, tracer.waitFor(120));
            // The version and the commit the jar was built from ("-dirty": with uncommitted changes).
            assertEquals(List.of("httptrace " + projectVersion() + " (commit " + gitCommit() + ")"), tracer.stdout());
        }
    }

    @Test
    void userThatDoesNotExistIsABadOption() throws Exception {
        try (var tracer = TracerProcess.start("-i lo --user no-such-user-here", "")) {
            assertEquals(2, tracer.waitFor(120));
            assertEquals("httptrace: --user: no user named 'no-such-user-here'", tracer.stderr().get(0));
            assertEquals(List.of(), tracer.stdout());
        }
    }

    @Test
    void readyFileInADirectoryThatDoesNotExistIsABadOption() throws Exception {
        try (var tracer = TracerProcess.start("-i lo --ready-file /nonexistent-dir/ready", "")) {
            assertEquals(2, tracer.waitFor(120));
            assertEquals("httptrace: --ready-file /nonexistent-dir/ready: no directory /nonexistent-dir",
                    tracer.stderr().get(0));
        }
    }

    @Test
    void readyFileOrUserWithReadIsABadOption() throws Exception {
        try (var tracer = TracerProcess.start("-r /dev/null --ready-file /tmp/x", "")) {
            assertEquals(2, tracer.waitFor(120));
            assertEquals("httptrace: --ready-file and --user are for live tracing, not --read", tracer.stderr().get(0));
        }
    }

    @Test
    void userWithoutThePowerToSwitchIsNotPermitted() throws Exception {
        Live.requireRoot();
        // nobody with exactly the capabilities tracing needs, but not CAP_SETUID/CAP_SETGID:
        // the filter attaches, switching user does not. One line, exit 3, nothing left running.
        var caps = "+bpf,+net_admin,+net_raw,+perfmon";
        var command = List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "--inh-caps=" + caps, "--ambient-caps=" + caps, Installed.launcher().toString(),
                "-i", "lo", "-p", "9", "--user", "daemon");
        try (var tracer = new TracerProcess(command, Installed.destdir())) {
            assertEquals(3, tracer.waitFor(60), "stderr: " + tracer.stderr());
            assertEquals(List.of("httptrace: cannot switch to user 'daemon' (initgroups: Operation not permitted):"
                    + " needs root or CAP_SETUID and CAP_SETGID"), tracer.stderr());
        }
    }

    static String projectVersion() throws Exception {
        String pom = java.nio.file.Files.readString(Live.projectDir().resolve("pom.xml"));
        var m = java.util.regex.Pattern.compile("<artifactId>httptrace</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(), "version in pom.xml");
        return m.group(1);
    }

    /** What the build records: HEAD's short hash, "-dirty" when tracked files differ from it. */
    static String gitCommit() throws Exception {
        String head = run("git", "rev-parse", "--short=12", "HEAD").strip();
        boolean dirty = new ProcessBuilder("git", "diff", "--quiet", "HEAD").directory(Live.projectDir().toFile())
                .start().waitFor() != 0;
        return head + (dirty ? "-dirty" : "");
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(Live.projectDir().toFile()).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", command));
        return out;
    }

    private static String lastLine(TracerProcess tracer) {
        List<String> err = tracer.stderr();
        assertTrue(!err.isEmpty(), "a message on stderr");
        return err.get(err.size() - 1);
    }
}
