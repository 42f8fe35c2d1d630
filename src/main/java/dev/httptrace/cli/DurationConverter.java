package dev.httptrace.cli;

import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses durations the way people type them: 500ms, 30s, 5m, 2h, or plain seconds. */
final class DurationConverter implements ITypeConverter<Duration> {

    @Override
    public Duration convert(String text) {
        String s = text.trim().toLowerCase(java.util.Locale.ROOT);
        int split = 0;
        while (split < s.length() && Character.isDigit(s.charAt(split))) {
            split++;
        }
        if (split == 0 || split > 12) {
            throw new TypeConversionException("'" + text + "' is not a duration (examples: 500ms, 30s, 5m, 2h)");
        }
        long n = Long.parseLong(s.substring(0, split));
        Duration d = switch (s.substring(split)) {
            case "ms" -> Duration.ofMillis(n);
            case "", "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> throw new TypeConversionException(
                    "'" + text + "' has an unknown unit (use ms, s, m or h)");
        };
        if (d.isZero()) {
            throw new TypeConversionException("duration must be more than zero");
        }
        return d;
    }
}
