/**
 * The exchange model every protocol produces and every output reads: an {@link
 * dev.httptrace.exchange.Exchange} (request, response, what the capture knows about them), the
 * {@link dev.httptrace.exchange.ExchangeSink} that receives them, and the
 * {@link dev.httptrace.exchange.ProcessInfo} of a traced end. It depends on no other package:
 * parsers, outputs and exporters meet here without knowing of each other.
 */
package dev.httptrace.exchange;
