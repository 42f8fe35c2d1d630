package dev.httptrace.output;

import java.util.ArrayList;
import java.util.List;

/**
 * A set of HTTP status codes written as {@code 5xx}, {@code 404} or {@code 400-499},
 * comma-separated ({@code --status}, {@code --fail-on}). Status codes are 100 to 999.
 */
public final class StatusRanges {

    // Inclusive bounds, pairwise; a handful at most, so a scan beats any structure.
    private final int[] bounds;
    private final String text;

    private StatusRanges(int[] bounds, String text) {
        this.bounds = bounds;
        this.text = text;
    }

    /**
     * @throws IllegalArgumentException with a one-line reason when a part is not a status,
     *         a class like {@code 5xx} or a range like {@code 400-499}
     */
    public static StatusRanges parse(List<String> parts) {
        List<int[]> ranges = new ArrayList<>();
        for (String p : parts) {
            String s = p.trim().toLowerCase(java.util.Locale.ROOT);
            int dash = s.indexOf('-');
            if (s.length() == 3 && s.endsWith("xx") && s.charAt(0) >= '1' && s.charAt(0) <= '9') {
                int base = (s.charAt(0) - '0') * 100;
                ranges.add(new int[] {base, base + 99});
            } else if (dash > 0) {
                int lo = code(s.substring(0, dash), p);
                int hi = code(s.substring(dash + 1), p);
                if (hi < lo) {
                    throw new IllegalArgumentException("status range '" + p + "' ends before it starts");
                }
                ranges.add(new int[] {lo, hi});
            } else {
                int c = code(s, p);
                ranges.add(new int[] {c, c});
            }
        }
        if (ranges.isEmpty()) {
            throw new IllegalArgumentException("no status given");
        }
        int[] bounds = new int[ranges.size() * 2];
        for (int i = 0; i < ranges.size(); i++) {
            bounds[2 * i] = ranges.get(i)[0];
            bounds[2 * i + 1] = ranges.get(i)[1];
        }
        return new StatusRanges(bounds, String.join(",", parts));
    }

    private static int code(String s, String part) {
        if (s.length() == 3 && s.chars().allMatch(Character::isDigit)) {
            int c = Integer.parseInt(s);
            if (c >= 100) {
                return c;
            }
        }
        throw new IllegalArgumentException("'" + part + "' is not a status: use e.g. 404, 5xx or 400-499");
    }

    public boolean contains(int status) {
        for (int i = 0; i < bounds.length; i += 2) {
            if (status >= bounds[i] && status <= bounds[i + 1]) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return text;
    }
}
