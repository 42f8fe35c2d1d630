package dev.httptrace.output;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Validates httptrace JSON output against the published schema
 * ({@value JsonLinesWriter#SCHEMA_RESOURCE}, draft 2020-12, format assertions on).
 *
 * <p>For any test that has real output in hand (unit tests of the writers, live tests of
 * the whole tracer): {@code SchemaValidator.assertValid(line)} or
 * {@code SchemaValidator.assertAllValid(stdout)}. Parsing is strict: one JSON object per
 * line, no trailing data, no duplicate keys.
 */
public final class SchemaValidator {

    /** Strict parser: duplicate keys and trailing tokens are errors. */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static final JsonSchema SCHEMA = load();

    private SchemaValidator() {}

    private static JsonSchema load() {
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
        SchemaValidatorsConfig config = SchemaValidatorsConfig.builder()
                .formatAssertionsEnabled(true)
                .build();
        try (InputStream in = SchemaValidator.class.getResourceAsStream(JsonLinesWriter.SCHEMA_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("schema not on the class path: " + JsonLinesWriter.SCHEMA_RESOURCE);
            }
            return factory.getSchema(in, config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Fails the test unless {@code jsonLine} (one record, with or without its '\n') is valid. */
    public static void assertValid(String jsonLine) {
        List<String> errors = errors(jsonLine);
        if (!errors.isEmpty()) {
            fail("record does not match the httptrace schema:\n  " + String.join("\n  ", errors)
                    + "\nrecord: " + jsonLine);
        }
    }

    /** Fails the test unless every non-empty line of {@code output} is a valid record. */
    public static void assertAllValid(String output) {
        for (String line : output.split("\n")) {
            if (!line.isEmpty()) {
                assertValid(line);
            }
        }
    }

    /** The schema violations of one record (empty when valid); parse errors included. */
    public static List<String> errors(String jsonLine) {
        String line = jsonLine.endsWith("\n") ? jsonLine.substring(0, jsonLine.length() - 1) : jsonLine;
        List<String> errors = new ArrayList<>();
        if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
            errors.add("record spans more than one line");
            return errors;
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            errors.add("not JSON: " + e.getOriginalMessage());
            return errors;
        }
        if (node == null || !node.isObject()) {
            errors.add("not a JSON object");
            return errors;
        }
        for (ValidationMessage m : SCHEMA.validate(node)) {
            errors.add(m.getMessage());
        }
        return errors;
    }
}
