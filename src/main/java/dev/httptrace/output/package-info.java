/**
 * Output of exchanges: {@link dev.httptrace.output.JsonLinesWriter} (one JSON object per
 * line, the scripting interface) and {@link dev.httptrace.output.TextWriter} (one line for
 * people), both configured by {@link dev.httptrace.output.OutputOptions}.
 *
 * <h2>The JSON record, schema version 1</h2>
 *
 * The contract is {@code src/main/resources/schema/httptrace-exchange-v1.schema.json}
 * (JSON Schema draft 2020-12, on the class path as
 * {@value dev.httptrace.output.JsonLinesWriter#SCHEMA_RESOURCE}); tests validate real output
 * against it. Field names follow OpenTelemetry / Elastic ECS as nested objects, so the
 * dotted name is the jq path. Adding an optional field keeps version 1; removing or
 * redefining one bumps {@code httptrace.schema_version}.
 *
 * <table>
 * <caption>Fields</caption>
 * <tr><th>jq path</th><th>type</th><th>when</th><th>meaning</th></tr>
 * <tr><td>.timestamp</td><td>string</td><td>always</td><td>request's first byte, RFC 3339 UTC, 6 fractional digits</td></tr>
 * <tr><td>.event.duration</td><td>integer</td><td>answered</td><td>ns from request's first byte to response's first byte</td></tr>
 * <tr><td>.network.transport</td><td>"tcp"</td><td>always</td><td></td></tr>
 * <tr><td>.network.type</td><td>"ipv4" | "ipv6"</td><td>always</td><td></td></tr>
 * <tr><td>.network.protocol.name</td><td>"http"</td><td>always</td><td></td></tr>
 * <tr><td>.network.protocol.version</td><td>"1.0" | "1.1"</td><td>always</td><td>the request's HTTP version</td></tr>
 * <tr><td>.client.address, .client.port</td><td>string, integer</td><td>always</td><td>the side that sent the request; IPv6 in RFC 5952 form</td></tr>
 * <tr><td>.server.address, .server.port</td><td>string, integer</td><td>always</td><td>the side that answered</td></tr>
 * <tr><td>.url.original</td><td>string</td><td>always</td><td>request-target as sent (absolute-form userinfo shown as REDACTED:REDACTED unless secrets are shown)</td></tr>
 * <tr><td>.url.path, .url.query</td><td>string</td><td>when present</td><td>query without '?', absent when none or empty</td></tr>
 * <tr><td>.url.scheme, .url.domain, .url.port</td><td>string, string, integer</td><td>absolute-form (domain, port also CONNECT)</td><td>scheme lower-cased; IPv6 domains keep brackets</td></tr>
 * <tr><td>.user_agent.original</td><td>string</td><td>with a User-Agent</td><td></td></tr>
 * <tr><td>.http.request.method</td><td>string</td><td>always</td><td></td></tr>
 * <tr><td>.http.request.headers</td><td>object</td><td>always</td><td>the headers {@link dev.httptrace.output.HeaderSelection} selects (a default set, all, none or named): lower-case name to value; repeated headers joined with ", "; secrets "[REDACTED]"</td></tr>
 * <tr><td>.http.request.body.size</td><td>integer</td><td>always</td><td>body bytes (chunk framing not counted)</td></tr>
 * <tr><td>.http.response.status_code</td><td>integer</td><td>answered</td><td></td></tr>
 * <tr><td>.http.response.reason</td><td>string</td><td>answered</td><td>as sent, may be ""</td></tr>
 * <tr><td>.http.response.headers, .http.response.body.size</td><td>object, integer</td><td>answered</td><td>as for the request</td></tr>
 * <tr><td>.httptrace.schema_version</td><td>1</td><td>always</td><td></td></tr>
 * <tr><td>.httptrace.interface</td><td>string</td><td>when known</td><td>interface name (absent offline without names)</td></tr>
 * <tr><td>.httptrace.gap</td><td>boolean</td><td>always</td><td>bytes this exchange depends on are missing from the capture</td></tr>
 * <tr><td>.httptrace.truncated</td><td>boolean</td><td>always</td><td>request or response head longer than the head limit</td></tr>
 * <tr><td>.httptrace.upgraded</td><td>boolean</td><td>always</td><td>the connection switched protocol</td></tr>
 * <tr><td>.httptrace.retransmissions</td><td>integer</td><td>always</td><td>segments of the connection seen again so far</td></tr>
 * <tr><td>.httptrace.unanswered</td><td>"closed" | "timeout" | "capture_end" | "gap"</td><td>exactly when .http.response is absent</td><td>why no response</td></tr>
 * </table>
 *
 * <p>Text from the traffic is written as UTF-8; unpaired UTF-16 surrogates (which no
 * decoder produces, but a String can hold) become U+FFFD.
 */
package dev.httptrace.output;
