package dev.httptrace.live;

import java.io.IOException;

/**
 * The {@link TestServer} as a process of its own, so that a test can start it inside a network
 * namespace ({@code ip netns exec NS java ... NamespaceServer ADDRESS}). Prints its port on a
 * line of its own, then serves until its standard input closes.
 */
public final class NamespaceServer {
    private NamespaceServer() {}

    public static void main(String[] args) throws IOException {
        try (TestServer server = new TestServer(args[0])) {
            System.out.println(server.port());
            System.out.flush();
            while (System.in.read() >= 0) {
                // serve until the test closes our stdin (or ends us by PID)
            }
        }
    }
}
