package dev.httptrace.live;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A raw HTTP client for live tests: it writes exactly the bytes it is given, with the
 * segmentation asked for (TCP_NODELAY; one write and flush per piece and a short pause
 * between pieces, so each piece is its own segment), and reads exactly the number of bytes
 * it expects back. Reads time out; the socket is closed by {@link #close}.
 */
final class RawClient implements AutoCloseable {
    static final int READ_TIMEOUT_MILLIS = 20_000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RawClient(InetSocketAddress server) {
        if (!server.getAddress().isLoopbackAddress()) {
            throw new IllegalArgumentException("loopback only: " + server);
        }
        try {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(READ_TIMEOUT_MILLIS);
            socket.connect(server, 5_000);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int localPort() {
        return socket.getLocalPort();
    }

    /** Writes each piece as its own segment (write, flush, short pause between pieces). */
    RawClient send(String... pieces) throws IOException, InterruptedException {
        for (int i = 0; i < pieces.length; i++) {
            if (i > 0) {
                Thread.sleep(ScriptedServer.PIECE_PAUSE_MILLIS);
            }
            write(pieces[i].getBytes(StandardCharsets.ISO_8859_1));
        }
        return this;
    }

    /** Writes all bytes at once (pipelining: several requests in one segment). */
    RawClient write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Reads exactly {@code n} bytes; fails if the stream ends or goes silent first. */
    byte[] read(int n) throws IOException {
        byte[] buf = in.readNBytes(n);
        if (buf.length != n) {
            throw new IOException("stream ended after " + buf.length + " of " + n + " bytes");
        }
        return buf;
    }

    /** Reads exactly the bytes of {@code expected} and checks that they are those. */
    void expect(String expected) throws IOException {
        byte[] want = expected.getBytes(StandardCharsets.ISO_8859_1);
        byte[] got = read(want.length);
        if (!Arrays.equals(want, got)) {
            throw new IOException("unexpected bytes from the server: "
                    + new String(got, 0, Math.min(got.length, 200), StandardCharsets.ISO_8859_1));
        }
    }

    /** Reads until the server closes. */
    byte[] readToEnd() throws IOException {
        return in.readAllBytes();
    }

    /** Half-closes (FIN) the sending side, keeping the socket readable. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
