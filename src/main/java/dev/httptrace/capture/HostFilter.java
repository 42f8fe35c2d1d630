package dev.httptrace.capture;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The hosts asked for with {@code --host}: IPv4 and IPv6 addresses and CIDR prefixes. A
 * segment is wanted when its source or destination address falls in one of them. Live, the
 * socket filter applies them in the kernel ({@link NativeCapture#filterHosts}); reading a
 * capture file, {@link SegmentFilter} does.
 *
 * <p>Only literal addresses: a name would need a DNS lookup, and its answer can change.
 */
public final class HostFilter {

    /** Most prefixes the kernel filter holds (HT_MAX_HOSTS in bpf/httptrace_event.h). */
    public static final int MAX_PREFIXES = 64;

    /**
     * One prefix: {@code bits} leading bits of {@code address} (4 or 16 bytes); the bits
     * after them are zero.
     */
    public record Prefix(byte[] address, int bits) {
        public boolean ipv6() {
            return address.length == 16;
        }

        boolean contains(byte[] a) {
            if (a.length != address.length) {
                return false;
            }
            int whole = bits / 8;
            for (int i = 0; i < whole; i++) {
                if (a[i] != address[i]) {
                    return false;
                }
            }
            int rest = bits % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xff << (8 - rest)) & 0xff;
            return (a[whole] & mask) == (address[whole] & mask);
        }
    }

    private final List<Prefix> prefixes;

    private HostFilter(List<Prefix> prefixes) {
        this.prefixes = List.copyOf(prefixes);
    }

    /** No host filter: every address is wanted. */
    public static final HostFilter ANY = new HostFilter(List.of());

    /**
     * Parses {@code ADDR} or {@code ADDR/BITS} for IPv4 and IPv6 (host bits are cleared).
     *
     * @throws IllegalArgumentException with a one-line reason
     */
    public static HostFilter parse(List<String> specs) {
        List<Prefix> out = new ArrayList<>();
        for (String spec : specs) {
            Prefix p = prefix(spec.trim());
            if (out.stream().noneMatch(q -> q.bits() == p.bits() && Arrays.equals(q.address(), p.address()))) {
                out.add(p);
            }
        }
        if (out.isEmpty()) {
            return ANY; // the one "no filter": --tls keeps streams whose socket is unknown only then
        }
        if (out.size() > MAX_PREFIXES) {
            throw new IllegalArgumentException("at most " + MAX_PREFIXES + " hosts or prefixes");
        }
        return new HostFilter(out);
    }

    private static Prefix prefix(String spec) {
        int slash = spec.indexOf('/');
        String addr = slash < 0 ? spec : spec.substring(0, slash);
        InetAddress ip;
        try {
            ip = InetAddress.ofLiteral(addr.startsWith("[") && addr.endsWith("]")
                    ? addr.substring(1, addr.length() - 1) : addr);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--host: '" + spec + "' is not an IP address or CIDR prefix "
                    + "(e.g. 10.0.0.5, 10.0.0.0/8, ::1, fd00::/64)");
        }
        byte[] bytes = ip.getAddress();
        int max = ip instanceof Inet4Address ? 32 : 128;
        int bits = max;
        if (slash >= 0) {
            String len = spec.substring(slash + 1);
            if (len.isEmpty() || len.length() > 3 || !len.chars().allMatch(Character::isDigit)
                    || Integer.parseInt(len) > max) {
                throw new IllegalArgumentException("--host: '" + spec + "' has a prefix length that is not 0 to " + max);
            }
            bits = Integer.parseInt(len);
        }
        for (int i = 0; i < bytes.length; i++) { // clear the host bits
            int keep = Math.clamp(bits - 8L * i, 0, 8);
            bytes[i] &= (byte) (0xff << (8 - keep));
        }
        return new Prefix(bytes, bits);
    }

    public List<Prefix> prefixes() {
        return prefixes;
    }

    public boolean isEmpty() {
        return prefixes.isEmpty();
    }

    /** True when no host was asked for, or either address is in a prefix asked for. */
    public boolean wants(byte[] src, byte[] dst) {
        if (prefixes.isEmpty()) {
            return true;
        }
        for (Prefix p : prefixes) {
            if (p.contains(src) || p.contains(dst)) {
                return true;
            }
        }
        return false;
    }
}
