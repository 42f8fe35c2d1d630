package dev.httptrace.exchange;

/**
 * Receives each exchange together with the bytes an output encoded it as (for the JSON
 * lines output: the record's line, without its newline), so that an exporter sends exactly
 * what stdout shows without encoding it again. Called on the tracing thread: it must not
 * block, and it must copy what it keeps (the bytes are reused for the next record).
 */
@FunctionalInterface
public interface EncodedExchangeSink {
    void encoded(Exchange exchange, byte[] buf, int off, int len);
}
