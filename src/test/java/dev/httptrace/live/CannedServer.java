package dev.httptrace.live;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A loopback server that answers with canned bytes whatever the client sent, for requests a
 * parsing server would refuse (malformed request lines, HTTP/0.9, framing errors): per
 * connection, in the order they come, it reads exactly as many bytes as the script says the
 * client sends, writes the scripted answer in one write, and closes. One connection at a time;
 * every read has a timeout.
 */
final class CannedServer implements AutoCloseable {
    private record Script(int clientBytes, byte[] answer) {}

    private final ServerSocket listener;
    private final BlockingQueue<Script> scripts = new LinkedBlockingQueue<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final Thread acceptor;
    private volatile boolean closed;

    CannedServer(String loopbackAddress) {
        listener = ScriptedServer.listen(loopbackAddress, 16);
        acceptor = Thread.ofPlatform().daemon().name("canned-" + port()).start(this::serve);
    }

    int port() {
        return listener.getLocalPort();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    /** The next connection: the client sends {@code client}, the server answers {@code answer} and closes. */
    void next(String client, String answer) {
        scripts.add(new Script(client.getBytes(StandardCharsets.ISO_8859_1).length,
                answer.getBytes(StandardCharsets.ISO_8859_1)));
    }

    List<Throwable> failures() {
        return List.copyOf(failures);
    }

    private void serve() {
        while (!closed) {
            try (Socket s = listener.accept()) {
                s.setTcpNoDelay(true);
                s.setSoTimeout(ScriptedServer.READ_TIMEOUT_MILLIS);
                Script script = scripts.poll(10, TimeUnit.SECONDS);
                if (script == null) {
                    throw new IllegalStateException("a connection without a script");
                }
                InputStream in = s.getInputStream();
                if (in.readNBytes(script.clientBytes()).length < script.clientBytes()) {
                    throw new IOException("the client sent less than scripted");
                }
                OutputStream out = s.getOutputStream();
                out.write(script.answer());
                out.flush();
            } catch (Exception e) {
                if (!closed) {
                    failures.add(e);
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
