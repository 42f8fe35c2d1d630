/**
 * The composition root: {@link dev.httptrace.pipeline.Tracer} wires the sources (tcp, tls) through
 * the protocol router to the protocol modules, and their exchanges to an
 * {@link dev.httptrace.exchange.ExchangeSink}. The CLI builds one; tests drive it with segments.
 */
package dev.httptrace.pipeline;
