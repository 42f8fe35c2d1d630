package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.httptrace.capture.NativeCapture;
import dev.httptrace.exchange.Exchange;
import dev.httptrace.pipeline.Tracer;
import java.net.InetAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The in-process capture: filter loaded and attached to lo, perf buffer polled, records
 * through the tracer, with the JDK's HttpClient and HttpServer as real peers.
 */
class CaptureIT {

    @BeforeEach
    void root() {
        Live.requireRoot();
    }

    /**
     * On loopback every packet passes the tap twice (going out, coming in). Traced on lo alone,
     * the socket asks the kernel not to hand over outgoing packets at all; traced on every
     * interface it must see them (other interfaces' outgoing traffic), and the filter drops
     * lo's outgoing copy. Either way each exchange is reported once.
     */
    @ParameterizedTest(name = "over {0}, traced on {1}")
    @CsvSource({"127.0.0.1, lo", "::1, lo", "127.0.0.1, all"})
    void tracesEachExchangeOfAKeepAliveClientExactlyOnce(String loopback, String iface) throws Exception {
        List<Exchange> exchanges = new ArrayList<>();
        var tracer = new Tracer(exchanges::add, Tracer.Settings.defaults());
        try (var server = new TestServer(loopback);
             var capture = NativeCapture.open(new NativeCapture.Settings(8192, List.of(server.port()), 64))) {
            capture.attach(iface.equals("all") ? null : iface);
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            send(client, HttpRequest.newBuilder(server.uri("/hello")).GET().build(), 200);
            send(client, HttpRequest.newBuilder(server.uri("/items"))
                    .POST(HttpRequest.BodyPublishers.ofString("x".repeat(1000))).build(), 201);
            send(client, HttpRequest.newBuilder(server.uri("/nope")).GET().build(), 404);

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (exchanges.size() < 3 && System.nanoTime() < deadline) {
                capture.poll(100, tracer::accept, tracer::captureLost);
            }
            capture.poll(200, tracer::accept, tracer::captureLost); // anything extra would show up here

            assertEquals(3, exchanges.size(), "exchanges: " + exchanges);
            byte[] address = InetAddress.getByName(loopback).getAddress();
            int[] status = {200, 201, 404};
            String[] methods = {"GET", "POST", "GET"};
            String[] targets = {"/hello", "/items", "/nope"};
            for (int i = 0; i < 3; i++) {
                Exchange e = exchanges.get(i);
                assertEquals(methods[i], e.request().method());
                assertEquals(targets[i], e.request().target());
                assertEquals(status[i], e.response().statusCode());
                assertEquals(server.port(), e.server().port());
                assertArrayEquals(address, e.server().address());
                assertArrayEquals(address, e.client().address());
                assertEquals(loopback.contains(":"), e.ipv6());
                assertEquals(1, e.ifindex(), "lo");
                assertNull(e.trace().unanswered());
                assertTrue(e.response().timestampNanos() >= e.request().timestampNanos());
                assertTrue(Math.abs(e.request().timestampNanos() / 1_000_000 - System.currentTimeMillis()) < 60_000,
                        "kernel timestamps converted to wall-clock time");
            }
            // One connection, kept alive: the same client port for all three.
            assertEquals(exchanges.get(0).client().port(), exchanges.get(2).client().port());
            assertEquals(1000, exchanges.get(1).request().bodySize());
            assertEquals(5, exchanges.get(0).response().bodySize());

            var stats = capture.stats();
            if (iface.equals("lo")) {
                assertEquals(0, stats.loopbackDuplicates(), "no outgoing copy handed to the filter: " + stats);
            } else {
                assertTrue(stats.loopbackDuplicates() > 0, "loopback duplicates dropped in the filter: " + stats);
            }
            assertEquals(0, stats.lostSamples() + stats.emitFailed() + stats.overflow(), stats.toString());
            assertEquals(0, tracer.stats().retransmittedSegments(), "each packet seen once: " + tracer.stats());
        }
    }

    private static void send(HttpClient client, HttpRequest request, int expected) throws Exception {
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(expected, response.statusCode());
    }
}
