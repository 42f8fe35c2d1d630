package dev.httptrace.cli;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.exchange.ExchangeSink;

/** Passes on at most {@code limit} exchanges (--count) and says when that many went through. */
final class ExchangeLimit implements ExchangeSink {
    private final ExchangeSink next;
    private final long limit;
    private long written;

    ExchangeLimit(ExchangeSink next, long limit) {
        this.next = next;
        this.limit = limit;
    }

    @Override
    public void exchange(Exchange exchange) {
        if (written < limit) {
            written++;
            next.exchange(exchange);
        }
    }

    boolean reached() {
        return written >= limit;
    }
}
