package dev.httptrace.output;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The schema itself: valid draft 2020-12, and strict enough to catch drift. */
class SchemaTest {

    @Test
    void schemaIsValidDraft202012() throws Exception {
        JsonSchemaFactory f = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
        JsonSchema meta = f.getSchema(SchemaLocation.of("https://json-schema.org/draft/2020-12/schema"));
        JsonNode schema;
        try (InputStream in = getClass().getResourceAsStream(JsonLinesWriter.SCHEMA_RESOURCE)) {
            schema = SchemaValidator.MAPPER.readTree(in);
        }
        assertEquals("https://json-schema.org/draft/2020-12/schema", schema.get("$schema").asText());
        assertEquals(java.util.Set.of(), meta.validate(schema));
        assertEquals(JsonLinesWriter.SCHEMA_VERSION, schema.at("/properties/httptrace/properties/schema_version/const").asInt());
    }

    private static ObjectNode good() throws Exception {
        return (ObjectNode) SchemaValidator.MAPPER.readTree(JsonLinesWriterTest.write(
                new OutputOptions(i -> "lo", false, java.util.Set.of()), Fixtures.x().build()));
    }

    private static ObjectNode goodUnanswered() throws Exception {
        return (ObjectNode) SchemaValidator.MAPPER.readTree(JsonLinesWriterTest.write(
                OutputOptions.defaults(), Fixtures.x().unanswered("closed").build()));
    }

    private static void assertRejected(ObjectNode base, Consumer<ObjectNode> change) {
        change.accept(base);
        String line = base.toString();
        assertFalse(SchemaValidator.errors(line).isEmpty(), "schema accepted: " + line);
    }

    private static ObjectNode record(Fixtures.X x) throws Exception {
        return (ObjectNode) SchemaValidator.MAPPER.readTree(JsonLinesWriterTest.write(OutputOptions.defaults(), x.build()));
    }

    private static Fixtures.X anomalous() {
        Fixtures.X x = Fixtures.x();
        x.anomalies = java.util.List.of("request.content_length_invalid", "response.body_incomplete");
        return x;
    }

    @Test
    void goodRecordsPass() throws Exception {
        assertTrue(SchemaValidator.errors(good().toString()).isEmpty());
        assertTrue(SchemaValidator.errors(goodUnanswered().toString()).isEmpty());
        assertEquals(java.util.List.of(), SchemaValidator.errors(record(Fixtures.x().malformed("\u0016\u0003")).toString()));
        assertEquals(java.util.List.of(), SchemaValidator.errors(record(Fixtures.x().http09()).toString()));
        assertEquals(java.util.List.of(), SchemaValidator.errors(record(anomalous()).toString()));
    }

    @Test
    void malformedRequestsAnomaliesAndHttp09AreHeldToTheirForm() throws Exception {
        assertRejected(record(anomalous()), o -> ((com.fasterxml.jackson.databind.node.ArrayNode) o.at("/httptrace/anomalies")).add("request.made_up"));
        assertRejected(record(anomalous()), o -> ((ObjectNode) o.get("httptrace")).putArray("anomalies"));
        assertRejected(record(Fixtures.x().malformed("x")), o -> ((ObjectNode) o.at("/http/request")).put("method", "GET"));
        assertRejected(record(Fixtures.x().malformed("x")), o -> o.putObject("url").put("original", "/"));
        assertRejected(good(), o -> ((ObjectNode) o.at("/http/request")).putNull("method"));
        assertRejected(good(), o -> o.remove("url"));
        assertRejected(good(), o -> ((ObjectNode) o.at("/network/protocol")).remove("version"));
        assertRejected(record(Fixtures.x().http09()), o -> ((ObjectNode) o.at("/network/protocol")).put("version", "0.8"));
    }

    @Test
    void driftIsCaught() throws Exception {
        assertRejected(good(), o -> o.remove("timestamp"));
        assertRejected(good(), o -> o.put("timestamp", "2026-11-23T16:40:01.123Z"));          // 3 digits
        assertRejected(good(), o -> o.put("timestamp", "2026-11-23T16:40:01.123456+01:00"));  // not UTC
        assertRejected(good(), o -> o.put("timestamp", "2026-13-23T16:40:01.123456Z"));       // no month 13
        assertRejected(good(), o -> o.put("extra", 1));
        assertRejected(good(), o -> ((ObjectNode) o.get("httptrace")).put("surprise", true));
        assertRejected(good(), o -> ((ObjectNode) o.get("client")).put("port", "54321"));     // string number
        assertRejected(good(), o -> ((ObjectNode) o.get("client")).put("port", 70000));
        assertRejected(good(), o -> ((ObjectNode) o.get("client")).put("address", "::1"));    // ipv6 in ipv4 record
        assertRejected(good(), o -> ((ObjectNode) o.get("server")).put("address", "127.0.0.256"));
        assertRejected(good(), o -> ((ObjectNode) o.get("network")).put("type", "ip4"));
        assertRejected(good(), o -> ((ObjectNode) o.at("/network/protocol")).put("version", "HTTP/1.1"));
        assertRejected(good(), o -> ((ObjectNode) o.at("/http/response")).put("status_code", "200"));
        assertRejected(good(), o -> ((ObjectNode) o.at("/http/response/headers")).put("Content-Type", "x"));
        assertRejected(good(), o -> ((ObjectNode) o.at("/http/response/headers")).put("x-n", 1));
        assertRejected(good(), o -> ((ObjectNode) o.at("/http/request/body")).put("size", -1));
        assertRejected(good(), o -> ((ObjectNode) o.get("event")).put("duration", 1.5));
        assertRejected(good(), o -> o.remove("event"));                                         // answered needs duration
        assertRejected(good(), o -> ((ObjectNode) o.get("httptrace")).put("unanswered", "closed"));
        assertRejected(good(), o -> ((ObjectNode) o.get("httptrace")).put("schema_version", 2));
        assertRejected(good(), o -> ((ObjectNode) o.get("httptrace")).put("interface", ""));
        assertRejected(good(), o -> ((ObjectNode) o.get("url")).remove("original"));
        assertRejected(good(), o -> ((ObjectNode) o.get("url")).put("port", "8080"));
        assertRejected(goodUnanswered(), o -> ((ObjectNode) o.get("httptrace")).remove("unanswered"));
        assertRejected(goodUnanswered(), o -> ((ObjectNode) o.get("httptrace")).put("unanswered", "reset"));
        assertRejected(goodUnanswered(), o -> o.putObject("event").put("duration", 1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "[1]", "{\"a\":1}{\"b\":2}", "{\"a\":1,\"a\":2}", "{\n}", "not json"})
    void validatorRejectsNonRecords(String line) {
        assertFalse(SchemaValidator.errors(line).isEmpty());
    }
}
