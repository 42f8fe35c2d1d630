package dev.httptrace.jmh;

import dev.httptrace.capture.Segment;
import dev.httptrace.pipeline.Tracer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * TCP reassembly and HTTP pairing on whole conversations: {@value #CONNECTIONS} keep-alive
 * connections (SYN to FIN), {@value #EXCHANGES_PER_CONNECTION} exchanges each, interleaved
 * as wrk's concurrent connections are, fed segment by segment to one long-lived
 * {@link Tracer} (connections come and go as in a live trace). One operation is one
 * exchange. The segments are built beforehand: decoding them from the capture is not
 * measured here.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HttpTracerBenchmark {
    static final int CONNECTIONS = 50;
    static final int EXCHANGES_PER_CONNECTION = 20;
    static final int EXCHANGES = CONNECTIONS * EXCHANGES_PER_CONNECTION;

    private final List<Segment> conversation = new ArrayList<>();
    private Tracer tracer;
    private Blackhole sinkHole;
    private long answered;

    @Setup
    public void setUp(Blackhole bh) {
        sinkHole = bh;
        tracer = new Tracer(exchange -> {
            if (exchange.response() != null) answered++;
            sinkHole.consume(exchange);
        }, Tracer.Settings.defaults());
        buildConversation();
    }

    @Benchmark
    @OperationsPerInvocation(EXCHANGES)
    public void keepAliveConversation() {
        long before = answered;
        for (Segment s : conversation) {
            tracer.accept(s);
        }
        if (answered - before != EXCHANGES) {
            throw new AssertionError("expected " + EXCHANGES + " answered exchanges, got " + (answered - before));
        }
    }

    private void buildConversation() {
        byte[] client = {127, 0, 0, 1};
        byte[] server = {127, 0, 0, 1};
        long[] clientSeq = new long[CONNECTIONS];
        long[] serverSeq = new long[CONNECTIONS];
        long time = 1_795_000_000_000_000_000L;
        for (int c = 0; c < CONNECTIONS; c++) {
            int port = 40_000 + c;
            clientSeq[c] = 1_000_000L * c;
            serverSeq[c] = 3_000_000_000L + 1_000_000L * c;
            conversation.add(new Segment(time += 1000, 1, client, server, port, 80, clientSeq[c]++, 0,
                    Segment.SYN, 0, new byte[0]));
            conversation.add(new Segment(time += 1000, 1, server, client, 80, port, serverSeq[c]++, clientSeq[c],
                    Segment.SYN | Segment.ACK, 0, new byte[0]));
        }
        byte[] request = TypicalExchange.REQUEST;
        byte[] response = TypicalExchange.RESPONSE;
        for (int x = 0; x < EXCHANGES_PER_CONNECTION; x++) {
            for (int c = 0; c < CONNECTIONS; c++) { // every connection sends its request, then all answers come
                conversation.add(new Segment(time += 1000, 1, client, server, 40_000 + c, 80, clientSeq[c],
                        serverSeq[c], Segment.PSH | Segment.ACK, request.length, request));
                clientSeq[c] += request.length;
            }
            for (int c = 0; c < CONNECTIONS; c++) {
                conversation.add(new Segment(time += 1000, 1, server, client, 80, 40_000 + c, serverSeq[c],
                        clientSeq[c], Segment.PSH | Segment.ACK, response.length, response));
                serverSeq[c] += response.length;
            }
        }
        for (int c = 0; c < CONNECTIONS; c++) {
            conversation.add(new Segment(time += 1000, 1, client, server, 40_000 + c, 80, clientSeq[c],
                    serverSeq[c], Segment.FIN | Segment.ACK, 0, new byte[0]));
            conversation.add(new Segment(time += 1000, 1, server, client, 80, 40_000 + c, serverSeq[c],
                    clientSeq[c] + 1, Segment.FIN | Segment.ACK, 0, new byte[0]));
        }
    }
}
