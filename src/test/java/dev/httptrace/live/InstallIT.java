package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * make install PREFIX=/usr/local DESTDIR=...: the launcher runs the installed jar without
 * building, and the man page and completion script (generated from the picocli model)
 * cover every option --help lists.
 */
class InstallIT {
    private static final Pattern LONG_OPTION = Pattern.compile("--[a-z][a-z-]+");

    @Test
    void installsLauncherJarManPageAndCompletion() throws Exception {
        Path root = Installed.root();
        assertTrue(Files.isExecutable(root.resolve("bin/httptrace")));
        assertTrue(Files.isRegularFile(root.resolve("lib/httptrace/httptrace.jar")));
        assertTrue(Files.isRegularFile(root.resolve("share/man/man1/httptrace.1")));
        assertTrue(Files.isRegularFile(root.resolve("share/bash-completion/completions/httptrace")));
        // Nothing to build with beside the installed launcher: it can only run the installed jar.
        assertFalse(Files.exists(root.resolve("bin/Makefile")));
        // What --help and the man page point to (issue 21: they named files that were not installed).
        assertTrue(Files.isRegularFile(root.resolve("share/httptrace/httptrace-exchange-v1.schema.json")));
        assertTrue(Files.isRegularFile(root.resolve("share/doc/httptrace/README.md")));
    }

    /** Issue 21: the man page's footer ran the commit into the date; exit codes sat under EXAMPLES. */
    @Test
    void manPageFooterAndSections() throws Exception {
        String man = Files.readString(Installed.root().resolve("share/man/man1/httptrace.1")).replace("\\-", "-");
        String th = man.lines().filter(l -> l.startsWith(".TH ")).findFirst().orElseThrow();
        assertTrue(th.contains("\"httptrace " + ErrorsIT.projectVersion() + "\""), th);
        assertFalse(th.contains("commit"), th);
        int exit = man.indexOf("EXIT CODES"), examples = man.indexOf("EXAMPLES");
        assertTrue(exit > 0 && examples > exit, "exit codes in a section of their own, before the examples");
        assertFalse(man.substring(examples).contains("no permission"), "no exit codes under EXAMPLES");
        assertTrue(man.contains("share/httptrace/httptrace-exchange-v1.schema.json"));
        assertFalse(man.contains("src/main/resources"), "no path of the source tree");
    }

    @Test
    void uninstallRemovesWhatInstallPut() throws Exception {
        Path dir = Files.createTempDirectory("httptrace-uninstall-");
        try {
            for (String target : List.of("install", "uninstall")) {
                Process make = new ProcessBuilder("make", "-s", "-C", Live.projectDir().toString(), target,
                        "DESTDIR=" + dir, "PREFIX=/usr/local").redirectErrorStream(true).start();
                make.getOutputStream().close();
                String out = new String(make.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                assertEquals(0, make.waitFor(), "make " + target + ": " + out);
                if (target.equals("install")) {
                    assertTrue(Files.isRegularFile(dir.resolve("usr/local/bin/httptrace")));
                }
            }
            try (var left = Files.walk(dir)) {
                assertEquals(List.of(), left.filter(Files::isRegularFile).toList(), "every installed file removed");
            }
            assertFalse(Files.exists(dir.resolve("usr/local/lib/httptrace")), "and its own directories");
        } finally {
            try (var all = Files.walk(dir)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void installedLauncherRunsTheInstalledJar() throws Exception {
        try (var version = new TracerProcess(List.of(Installed.launcher().toString(), "--version"), Installed.destdir())) {
            assertEquals(0, version.waitFor(60));
            assertEquals(List.of("httptrace " + ErrorsIT.projectVersion() + " (commit " + ErrorsIT.gitCommit() + ")"),
                    version.stdout());
            assertEquals(List.of(), version.stderr(), "no build output");
        }
    }

    @Test
    void manPageAndCompletionMentionEveryOptionOfHelp() throws Exception {
        Set<String> options = new TreeSet<>();
        try (var help = new TracerProcess(List.of(Installed.launcher().toString(), "--help"), Installed.destdir())) {
            assertEquals(0, help.waitFor(60));
            for (String line : help.stdout()) {
                if (line.startsWith("  -") || line.startsWith("      --")) { // the option list, not the examples
                    LONG_OPTION.matcher(line).results().forEach(m -> options.add(m.group()));
                }
            }
        }
        assertTrue(options.containsAll(Set.of("--iface", "--port", "--ready-file", "--user", "--help", "--version")),
                "options read from --help: " + options);
        // troff writes a hyphen as \-
        String man = Files.readString(Installed.root().resolve("share/man/man1/httptrace.1")).replace("\\-", "-");
        String completion = Files.readString(Installed.root().resolve("share/bash-completion/completions/httptrace"));
        for (String option : options) {
            assertTrue(man.contains(option), "man page mentions " + option);
            assertTrue(completion.contains("'" + option + "'") || completion.contains(option + " ")
                    || completion.contains(option + "'") || completion.contains(option + "\""),
                    "completion offers " + option);
        }
        assertTrue(man.contains(".TH \"HTTPTRACE\" \"1\""), "a section 1 man page");
    }
}
