package dev.httptrace.jmh;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.output.JsonLinesWriter;
import dev.httptrace.output.OutputOptions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The JSON lines writer on the typical exchange, with the default options (redaction on)
 * and an interface name, into a stream that only counts bytes. One operation is one record.
 * Bytes allocated per record are measured here ({@code make jmh}, {@code -prof gc}:
 * gc.alloc.rate.norm), not asserted by a unit test: they depend on the JIT and on agents.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class JsonLinesWriterBenchmark {
    private final Exchange exchange = TypicalExchange.exchange();
    private final CountingStream out = new CountingStream();
    private JsonLinesWriter writer;
    private long records;

    @Setup
    public void setUp() {
        writer = new JsonLinesWriter(out, new OutputOptions(ifindex -> "lo", false, Set.of()));
    }

    @Benchmark
    public void typicalExchange() {
        writer.exchange(exchange);
        records++;
    }

    @TearDown
    public void checkOutput() throws IOException {
        writer.flush();
        long perRecord = out.bytes / Math.max(records, 1);
        if (perRecord < 500) { // a record of this exchange is about 1 kB
            throw new AssertionError("only " + perRecord + " bytes per record were written");
        }
    }

    private static final class CountingStream extends OutputStream {
        long bytes;

        @Override
        public void write(int b) {
            bytes++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            bytes += len;
        }
    }
}
