package dev.httptrace.live;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * A real HTTP/1.1 server on a loopback address (the JDK's HttpServer, port chosen by
 * the kernel) with a few fixed routes the tests trace:
 * GET /hello -> 200 "hello"; POST /items -> 201 with the request body size;
 * anything else -> 404.
 */
final class TestServer implements AutoCloseable {
    private final HttpServer server;

    TestServer(String loopbackAddress) {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(loopbackAddress), 0), 16);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", TestServer::handle);
        server.start();
    }

    private static void handle(HttpExchange ex) throws IOException {
        byte[] request = ex.getRequestBody().readAllBytes();
        String path = ex.getRequestURI().getPath();
        int status;
        byte[] body;
        if (ex.getRequestMethod().equals("GET") && path.equals("/hello")) {
            status = 200;
            body = "hello".getBytes(StandardCharsets.UTF_8);
        } else if (ex.getRequestMethod().equals("POST") && path.equals("/items")) {
            status = 201;
            body = ("created " + request.length).getBytes(StandardCharsets.UTF_8);
        } else {
            status = 404;
            body = "not found".getBytes(StandardCharsets.UTF_8);
        }
        ex.getResponseHeaders().add("Content-Type", "text/plain");
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
        ex.close();
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** Base URI, e.g. http://127.0.0.1:41234 or http://[::1]:41234. */
    URI uri(String path) {
        String host = server.getAddress().getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host.replaceAll("%.*", "") + "]";
        }
        return URI.create("http://" + host + ":" + port() + path);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
