/**
 * Export of records to systems beside stdout: {@link dev.httptrace.export.KafkaExport} sends
 * every record (the JSON line stdout shows, unchanged) to an Apache Kafka topic, keyed by the
 * connection, with the host and interface as headers; its counters are
 * {@link dev.httptrace.export.KafkaCounters}. It depends only on {@code exchange}: the JSON
 * bytes come from the output through {@link dev.httptrace.exchange.EncodedExchangeSink}.
 *
 * <p>The tracing thread never waits for Kafka: a record is copied into a buffer bounded by count
 * and bytes and sent by a thread of its own; a full buffer drops the record and counts it. Every
 * record offered ends in exactly one counter: delivered, or not delivered for one cause.
 */
package dev.httptrace.export;
