package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's CI example, read from README.md (so the two cannot drift) and run as it
 * stands with the installed httptrace: a clean smoke test passes, and the same snippet
 * with one request the service answers with a 5xx fails the job.
 */
class CiExampleIT {
    private static final String MARKER = "<!-- ci-example:";

    @BeforeEach
    void root() {
        Live.requireRoot();
    }

    @Test
    void theGitHubActionsStepRunsTheSameSnippet() throws Exception {
        String readme = readme();
        String yaml = block(readme, "yaml");
        Matcher run = Pattern.compile("(?s)\\n  run: \\|\\n(.*)").matcher(yaml);
        assertTrue(run.find(), "a run: | body in the yaml block");
        String body = run.group(1).lines().map(l -> l.startsWith("    ") ? l.substring(4) : l)
                .collect(Collectors.joining("\n", "", "\n"));
        assertEquals(block(readme, "sh"), body);
        assertTrue(yaml.contains("shell: sudo "), "the step runs the snippet as root");
    }

    @Test
    void aCleanSmokeTestPasses(@TempDir Path job) throws Exception {
        Run run = runSnippet(snippet(), job);
        assertEquals(0, run.exit, run.toString());
        List<JsonNode> records = LauncherIT.parse(Files.readAllLines(job.resolve("trace.jsonl")));
        assertEquals(2, records.size(), run.toString());
        for (JsonNode r : records) {
            assertEquals("GET", r.at("/http/request/method").asText());
            assertEquals(200, r.at("/http/response/status_code").asInt(), r.toString());
        }
    }

    @Test
    void aFiveHundredFailsTheJob(@TempDir Path job) throws Exception {
        String snippet = snippet();
        // python3 -m http.server answers POST with 501 Unsupported method. Sent after the smoke
        // request that waits until the service accepts connections, so it is answered.
        String waits = snippet.lines().filter(l -> l.contains("--retry-connrefused")).findFirst().orElseThrow() + "\n";
        String withError = snippet.replace(waits, waits + "curl -sS -o /dev/null -X POST \"http://127.0.0.1:$port/\"\n");
        assertNotEquals(snippet, withError);
        Run run = runSnippet(withError, job);
        assertNotEquals(0, run.exit, run.toString());
        List<String> failing = run.stdout.stream().filter(l -> l.contains("\"status_code\":501")).toList();
        assertEquals(1, failing.size(), "the job log shows the 5xx exchange: " + run);
        assertEquals(failOnExitCode(), run.exit, "the job ends with --fail-on's exit code: " + run);
    }

    private record Run(int exit, List<String> stdout, List<String> stderr) {}

    /**
     * Runs the snippet on a free port. The port is probed here and then bound by the
     * snippet's python3 -m http.server, so another program may take it in between: the
     * snippet is run again on another port when the service could not bind (its log says so).
     */
    private static Run runSnippet(String snippet, Path job) throws Exception {
        Path script = job.resolve("ci.sh");
        Files.writeString(script, snippet);
        Run run = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            int port;
            try (var free = new ServerSocket(0)) {
                port = free.getLocalPort();
            }
            // As a CI job runs it: bash, httptrace installed on PATH, no terminal, no stdin.
            String path = Installed.root().resolve("bin") + ":" + System.getenv("PATH");
            List<String> command = List.of("env", "PORT=" + port, "PATH=" + path, "timeout", "-s", "KILL", "180",
                    "bash", script.toString());
            try (var process = new TracerProcess(command, job)) {
                int exit = process.waitFor(200);
                run = new Run(exit, process.stdout(), process.stderr());
            }
            Path log = job.resolve("service.log");
            if (!(Files.exists(log) && Files.readString(log).contains("Address already in use"))) {
                return run;
            }
            System.err.println("CiExampleIT: port " + port + " was taken before the service bound it; again");
        }
        return run;
    }

    /** The sh block of the README, as written. */
    private static String snippet() throws Exception {
        String sh = block(readme(), "sh");
        assertTrue(sh.contains(" --fail-on 5xx "), sh);
        return sh;
    }

    /** The exit code the README's table gives for --fail-on. */
    private static int failOnExitCode() throws Exception {
        Matcher row = Pattern.compile("(?m)^\\| (\\d+) \\|[^\\n]*--fail-on").matcher(readme());
        assertTrue(row.find(), "an exit code row for --fail-on in README.md");
        return Integer.parseInt(row.group(1));
    }

    private static String readme() throws Exception {
        return Files.readString(Live.projectDir().resolve("README.md"));
    }

    /** The first ```LANG block after the ci-example marker. */
    private static String block(String readme, String lang) {
        int marker = readme.indexOf(MARKER);
        assertTrue(marker >= 0, "README.md has the CI example marker");
        int start = readme.indexOf("```" + lang + "\n", marker);
        assertTrue(start >= 0, "a ```" + lang + " block after the marker");
        start += lang.length() + 4;
        int end = readme.indexOf("```\n", start);
        return readme.substring(start, end);
    }
}
