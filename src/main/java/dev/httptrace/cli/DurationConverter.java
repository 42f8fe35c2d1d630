package dev.httptrace.cli;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses durations the way people type them: 500ms, 30s, 1.5s, 5m, 2h, or plain seconds. */
final class DurationConverter implements ITypeConverter<Duration> {
    private static final Pattern DURATION = Pattern.compile("(\\d{1,12}(?:\\.\\d{1,9})?)([a-z]*)");

    @Override
    public Duration convert(String text) {
        String s = text.trim().toLowerCase(java.util.Locale.ROOT);
        Matcher m = DURATION.matcher(s);
        if (!m.matches()) {
            throw new TypeConversionException("'" + text + "' is not a duration (examples: 500ms, 1.5s, 30s, 5m, 2h)");
        }
        long nanosPerUnit = switch (m.group(2)) {
            case "ms" -> 1_000_000L;
            case "", "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            case "h" -> 3_600_000_000_000L;
            default -> throw new TypeConversionException(
                    "'" + text + "' has an unknown unit '" + m.group(2) + "' (use ms, s, m or h)");
        };
        BigDecimal nanos = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(nanosPerUnit));
        if (nanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new TypeConversionException("'" + text + "' is too long");
        }
        Duration d = Duration.ofNanos(nanos.longValue());
        if (d.isZero()) {
            throw new TypeConversionException("duration must be more than zero");
        }
        return d;
    }
}
