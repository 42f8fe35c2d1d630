package dev.httptrace.http1;

import dev.httptrace.jmh.TypicalExchange;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * The head parser on the two heads of one exchange (a browser's request, nginx's response),
 * each arriving whole in one segment. One operation is one exchange. The parser is
 * package-private, so this benchmark lives in its package.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HeadParserBenchmark {
    private static final byte[] REQUEST = TypicalExchange.REQUEST;
    private static final byte[] RESPONSE = TypicalExchange.RESPONSE_HEAD_BYTES;

    private final HeadParser parser = new HeadParser(64 * 1024);

    @Benchmark
    public void requestAndResponseHead(Blackhole bh) {
        parse(true, REQUEST, bh);
        parse(false, RESPONSE, bh);
    }

    private void parse(boolean request, byte[] head, Blackhole bh) {
        parser.start(request, !request);
        int consumed = parser.feed(head, 0, head.length);
        if (parser.state() != HeadParser.DONE || consumed != head.length) {
            throw new AssertionError("the typical head did not parse: state " + parser.state());
        }
        bh.consume(parser.headers);
        bh.consume(request ? parser.method : parser.reason);
        parser.release();
    }
}
