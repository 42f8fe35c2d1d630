package dev.httptrace.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether a standard stream is a terminal, and whether the user wants colour there. */
final class Terminal {

    private Terminal() {}

    /** True when file descriptor fd (1 stdout, 2 stderr) is a terminal: a pty or a console. */
    static boolean isTerminal(int fd) {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /** --color auto: stdout is a terminal and NO_COLOR (https://no-color.org) is unset or empty. */
    static boolean colourByDefault() {
        String noColor = System.getenv("NO_COLOR");
        return (noColor == null || noColor.isEmpty()) && isTerminal(1);
    }
}
