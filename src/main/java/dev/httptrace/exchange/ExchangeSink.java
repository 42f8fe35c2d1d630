package dev.httptrace.exchange;

/** Receives exchanges as they complete, in completion order. */
@FunctionalInterface
public interface ExchangeSink {
    void exchange(Exchange exchange);
}
