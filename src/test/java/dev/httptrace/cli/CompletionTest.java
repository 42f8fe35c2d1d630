package dev.httptrace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bash completion as installed (picocli's script, generated before the tests run, with
 * src/main/completion/httptrace-extra.bash appended, as the Makefile does): Tab after an option
 * offers what that option takes.
 */
class CompletionTest {

    static Path script;
    @TempDir
    static Path dir;

    @BeforeAll
    static void assemble() throws Exception {
        Path project = Path.of(System.getProperty("httptrace.project.dir", "."));
        Path generated = project.resolve("target/doc/httptrace.bash");
        assertTrue(Files.isRegularFile(generated), "picocli's script is generated in process-classes: " + generated);
        script = dir.resolve("httptrace.bash");
        Files.writeString(script, Files.readString(generated)
                + Files.readString(project.resolve("src/main/completion/httptrace-extra.bash")));
        Files.writeString(dir.resolve("capture.pcapng"), "");
        Files.writeString(dir.resolve("capture.txt"), "");
    }

    /** What Tab offers after {@code words} (the last one being completed), in {@code dir}. */
    static List<String> complete(String... words) throws Exception {
        StringBuilder line = new StringBuilder("httptrace");
        for (String w : words) line.append(' ').append(w.isEmpty() ? "''" : "'" + w + "'");
        String program = "source '" + script + "' 2>/dev/null\n"
                + "COMP_WORDS=(" + line + "); COMP_CWORD=" + words.length + "\n"
                + "_complete_httptrace 2>/dev/null\n"
                + "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
        Process p = new ProcessBuilder("bash", "--norc", "-c", program).directory(dir.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return Arrays.stream(out.split("\n")).filter(s -> !s.isEmpty()).sorted().toList();
    }

    @Test
    void fileNamesForReadReadyFileAndTlsLib() throws Exception {
        for (String option : List.of("-r", "--read", "--ready-file", "--tls-lib", "-w", "-o")) {
            assertEquals(List.of("capture.pcapng", "capture.txt"), complete(option, "cap"), option);
        }
    }

    @Test
    void interfacesForIface() throws Exception {
        assertEquals(List.of("lo"), complete("-i", "l").stream().filter(s -> s.equals("lo")).toList());
        List<String> all = complete("--iface", "");
        try (var names = Files.list(Path.of("/sys/class/net"))) {
            assertEquals(names.map(n -> n.getFileName().toString()).sorted().toList(), all);
        }
    }

    @Test
    void usersForUser() throws Exception {
        assertTrue(complete("--user", "roo").contains("root"));
    }

    @Test
    void optionsAndValuesStillComeFromPicocli() throws Exception {
        assertEquals(List.of("json", "text"), complete("-f", ""));
        assertTrue(complete("--re").containsAll(List.of("--read", "--ready-file", "--redact-header")));
    }
}
