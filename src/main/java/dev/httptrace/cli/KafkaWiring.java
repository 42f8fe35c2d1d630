package dev.httptrace.cli;

import dev.httptrace.exchange.ExchangeSink;
import dev.httptrace.export.KafkaExport;
import dev.httptrace.output.JsonLinesWriter;
import dev.httptrace.output.OutputOptions;
import java.io.OutputStream;
import java.util.Locale;

/** How --kafka joins the outputs: the JSON lines writer's bytes go to the export as they are. */
final class KafkaWiring {
    private KafkaWiring() {}

    /**
     * The sink that writes the records and exports them. With -f json to stdout, the writer's own
     * bytes are sent (encoded once); with -f text or --kafka-only, a JSON lines writer that writes
     * nowhere encodes them for Kafka.
     */
    static ExchangeSink records(ExchangeSink writer, boolean kafkaOnly, OutputOptions options, KafkaExport export) {
        if (!kafkaOnly && writer instanceof JsonLinesWriter json) {
            return json.alsoTo(export);
        }
        JsonLinesWriter json = new JsonLinesWriter(OutputStream.nullOutputStream(), options).alsoTo(export);
        if (kafkaOnly) {
            return json;
        }
        return x -> {
            writer.exchange(x);
            json.exchange(x);
        };
    }

    /** --kafka-buffer RECORDS[,BYTES]: {records, bytes}; bytes take k, m or g. */
    static long[] buffer(String value) {
        String[] parts = value.split(",", -1);
        if (parts.length > 2) {
            throw new IllegalArgumentException("'" + value + "' is not RECORDS[,BYTES]");
        }
        long records = Long.parseLong(parts[0].strip());
        long bytes = parts.length == 2 ? size(parts[1]) : 32L << 20;
        if (records < 1 || records > Integer.MAX_VALUE || bytes < 1) {
            throw new IllegalArgumentException("'" + value + "': at least 1 record and 1 byte");
        }
        return new long[] {records, bytes};
    }

    static long size(String s) {
        String v = s.strip().toLowerCase(Locale.ROOT);
        int shift = 0;
        if (v.endsWith("k")) {
            shift = 10;
        } else if (v.endsWith("m")) {
            shift = 20;
        } else if (v.endsWith("g")) {
            shift = 30;
        }
        if (shift != 0) {
            v = v.substring(0, v.length() - 1);
        }
        return Math.multiplyExact(Long.parseLong(v), 1L << shift);
    }

    static int exitCode(KafkaExport.Reason reason) {
        return switch (reason) {
            case UNREACHABLE -> ExitCode.KAFKA_UNREACHABLE;
            case UNKNOWN_TOPIC -> ExitCode.KAFKA_NO_TOPIC;
            case REFUSED -> ExitCode.KAFKA_REFUSED;
            case CONFIG -> ExitCode.USAGE;
        };
    }
}
