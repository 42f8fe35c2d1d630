package dev.httptrace.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/test-summary, which ends {@code make test}, on report directories made here: a CI
 * run is green only when there are reports, no test failed or was skipped, and live tests
 * ran. Outside CI skips (live tests without root) are counted, not failures.
 */
class TestSummaryScriptTest {
    @TempDir
    Path target;

    private record Result(int exit, String out, String err) {}

    private Result summary(String ci) throws Exception {
        Path script = Path.of(System.getProperty("httptrace.project.dir", ".")).resolve("scripts/test-summary");
        ProcessBuilder pb = new ProcessBuilder("sh", script.toString(), target.toString());
        pb.environment().remove("CI");
        if (ci != null) {
            pb.environment().put("CI", ci);
        }
        Path err = Files.createTempFile(target, "err", ".txt");
        Process p = pb.redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "test-summary finished");
        return new Result(p.exitValue(), out, Files.readString(err));
    }

    /** A JUnit XML report as surefire and failsafe write it (the totals on the testsuite element). */
    private void report(String plugin, String suite, int tests, int failures, int errors, int skipped) throws Exception {
        Path dir = Files.createDirectories(target.resolve(plugin + "-reports"));
        StringBuilder cases = new StringBuilder();
        for (int i = 0; i < tests; i++) {
            cases.append("  <testcase name=\"t").append(i).append("\" classname=\"").append(suite).append("\" time=\"0.01\"")
                    .append(i < skipped ? "><skipped message=\"live eBPF tests need root\"/></testcase>\n" : "/>\n");
        }
        Files.writeString(dir.resolve("TEST-" + suite + ".xml"), """
                <?xml version="1.0" encoding="UTF-8"?>
                <testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
                xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report.xsd" \
                version="3.0.2" name="%s" time="0.5" tests="%d" errors="%d" skipped="%d" failures="%d">
                  <properties>
                    <property name="tests" value="999"/>
                  </properties>
                %s</testsuite>
                """.formatted(suite, tests, errors, skipped, failures, cases));
    }

    @Test
    void aCompleteRunIsGreenInCiAndSumsBothKinds() throws Exception {
        report("surefire", "dev.httptrace.http1.HeadParserTest", 12, 0, 0, 0);
        report("surefire", "dev.httptrace.cli.MainOptionsTest", 5, 0, 0, 0);
        report("failsafe", "dev.httptrace.live.CaptureIT", 3, 0, 0, 0);
        for (String ci : new String[] {"true", "1", "TRUE", "yes", null, "false"}) {
            Result r = summary(ci);
            assertEquals(0, r.exit(), "CI=" + ci + ": " + r);
            assertEquals("tests: 20 passed, 0 failed, 0 skipped (unit 17, live 3)", r.out());
        }
    }

    @Test
    void noReportsAtAllFailEverywhere() throws Exception {
        for (String ci : new String[] {"true", null}) {
            Result r = summary(ci);
            assertEquals(1, r.exit(), "CI=" + ci + ": " + r);
            assertEquals("tests: 0 passed, 0 failed, 0 skipped (unit 0, live 0)", r.out());
            assertTrue(r.err().contains("no test reports"), r.err());
        }
        Files.createDirectories(target.resolve("surefire-reports"));
        Files.createDirectories(target.resolve("failsafe-reports"));
        assertEquals(1, summary(null).exit(), "empty report directories are no reports");
    }

    @Test
    void aSkippedTestFailsCiButNotALocalRun() throws Exception {
        report("surefire", "dev.httptrace.http1.HeadParserTest", 12, 0, 0, 0);
        report("failsafe", "dev.httptrace.live.CaptureIT", 3, 0, 0, 3);
        for (String ci : new String[] {"true", "1", "yes", "on"}) {
            Result r = summary(ci);
            assertEquals(1, r.exit(), "CI=" + ci + ": " + r);
            assertEquals("tests: 12 passed, 0 failed, 3 skipped (unit 12, live 3)", r.out());
            assertTrue(r.err().contains("3 tests skipped"), r.err());
            assertTrue(r.err().contains("TEST-dev.httptrace.live.CaptureIT.xml"), "names the report: " + r.err());
        }
        for (String ci : new String[] {null, "", "false", "FALSE", "0"}) {
            Result r = summary(ci);
            assertEquals(0, r.exit(), "CI=" + ci + " is not CI: " + r);
        }
    }

    @Test
    void aSkippedUnitTestFailsCiToo() throws Exception {
        report("surefire", "dev.httptrace.capture.TcpdumpCrossCheckTest", 1, 0, 0, 1);
        report("failsafe", "dev.httptrace.live.CaptureIT", 3, 0, 0, 0);
        assertEquals(1, summary("true").exit());
    }

    @Test
    void noLiveTestRunFailsCi() throws Exception {
        report("surefire", "dev.httptrace.http1.HeadParserTest", 12, 0, 0, 0);
        Result ci = summary("true");
        assertEquals(1, ci.exit(), ci.toString());
        assertTrue(ci.err().contains("no live test ran"), ci.err());
        assertEquals(0, summary(null).exit(), "outside CI a run without live tests is allowed");

        Files.createDirectories(target.resolve("failsafe-reports"));
        Files.writeString(target.resolve("failsafe-reports/failsafe-summary.xml"),
                "<failsafe-summary result=\"254\" timeout=\"false\"><completed>0</completed></failsafe-summary>\n");
        assertEquals(1, summary("true").exit(), "failsafe ran and found no tests");
        report("failsafe", "dev.httptrace.live.EmptyIT", 0, 0, 0, 0);
        assertEquals(1, summary("true").exit(), "a live report with no tests in it");
    }

    @Test
    void failuresAndErrorsFailEverywhere() throws Exception {
        report("surefire", "dev.httptrace.http1.HeadParserTest", 12, 1, 1, 0);
        report("failsafe", "dev.httptrace.live.CaptureIT", 3, 0, 0, 0);
        for (String ci : new String[] {"true", null}) {
            Result r = summary(ci);
            assertEquals(1, r.exit(), r.toString());
            assertEquals("tests: 13 passed, 2 failed, 0 skipped (unit 12, live 3)", r.out());
        }
    }
}
