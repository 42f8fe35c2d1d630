package dev.httptrace.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * A tcpdump-style capture filter given as trailing arguments ({@code httptrace -i lo port 9090
 * and host 10.0.0.5}), translated to the kernel filters httptrace has: {@code --port} and
 * {@code --host}. Those keep a connection when one of its ports is in a set and one of its
 * addresses is in a set of prefixes, so what can be said is a conjunction of at most one
 * clause of ports and one of hosts, each clause an {@code or} of its kind:
 *
 * <pre>
 *   port 80                                  tcp port 80 or port 8080
 *   portrange 8000-8010                      host 10.0.0.5 and (port 80 or port 443)
 *   net 10.0.0.0/8 or host ::1               tcp
 * </pre>
 *
 * Supported: {@code port}, {@code portrange}, {@code host}, {@code net} (CIDR; {@code mask} is
 * not), {@code tcp} (always true: httptrace reads TCP only), {@code and}/{@code &&},
 * {@code or}/{@code ||}, parentheses. Refused with the reason: {@code src}/{@code dst} (the
 * kernel filters match either end), {@code not}/{@code !} (they can only keep), {@code or}
 * between different kinds ({@code port 80 or host x}), two clauses of one kind
 * ({@code port 80 and port 81}: both ends), other protocols and primitives (udp, icmp, ether,
 * vlan, less, greater, byte offsets) and host names (no DNS). Nothing is ever widened: what
 * cannot be said exactly is an error, not a broader filter.
 */
final class FilterExpression {

    /** What the expression asks for: ports and hosts (literal addresses or CIDR prefixes), each empty for any. */
    record Translation(List<Integer> ports, List<String> hosts) {}

    /** A bad or unsupported expression; the message says which part and why. */
    static final class Unsupported extends IllegalArgumentException {
        Unsupported(String message) {
            super(message);
        }
    }

    static final String SUPPORTED = "supported: port, portrange, host, net, tcp, and, or, parentheses";

    private sealed interface Node permits Prim, And, Or, True {}

    private record Prim(boolean port, List<Integer> ports, String host, String text) implements Node {}

    private record And(List<Node> parts) implements Node {}

    private record Or(List<Node> parts) implements Node {}

    private record True() implements Node {}

    private final List<String> tokens;
    private int at;

    private FilterExpression(List<String> tokens) {
        this.tokens = tokens;
    }

    /** Translates the words given (they are joined: a quoted expression and loose words are alike). */
    static Translation translate(List<String> words) {
        List<String> tokens = tokenize(String.join(" ", words));
        if (tokens.isEmpty()) {
            return new Translation(List.of(), List.of());
        }
        FilterExpression p = new FilterExpression(tokens);
        Node n = p.or();
        if (p.at < tokens.size()) {
            throw new Unsupported("unexpected '" + tokens.get(p.at) + "'");
        }
        return conjunction(n);
    }

    private static List<String> tokenize(String s) {
        List<String> out = new ArrayList<>();
        for (String w : s.trim().split("\\s+")) {
            StringBuilder b = new StringBuilder();
            for (char c : w.toCharArray()) {
                if (c == '(' || c == ')') {
                    if (!b.isEmpty()) out.add(b.toString());
                    b.setLength(0);
                    out.add(String.valueOf(c));
                } else {
                    b.append(c);
                }
            }
            if (!b.isEmpty()) out.add(b.toString());
        }
        return out;
    }

    private String peek() {
        return at < tokens.size() ? tokens.get(at) : null;
    }

    private String next(String what) {
        if (at >= tokens.size()) throw new Unsupported("expected " + what + " at the end");
        return tokens.get(at++);
    }

    private Node or() {
        List<Node> parts = new ArrayList<>(List.of(and()));
        while ("or".equals(peek()) || "||".equals(peek())) {
            at++;
            parts.add(and());
        }
        return parts.size() == 1 ? parts.getFirst() : new Or(parts);
    }

    private Node and() {
        List<Node> parts = new ArrayList<>(List.of(primary()));
        while ("and".equals(peek()) || "&&".equals(peek())) {
            at++;
            parts.add(primary());
        }
        return parts.size() == 1 ? parts.getFirst() : new And(parts);
    }

    private Node primary() {
        String t = next("a primitive");
        switch (t) {
            case "(" -> {
                Node n = or();
                if (!")".equals(next("')'"))) throw new Unsupported("expected ')'");
                return n;
            }
            case "not", "!" -> throw new Unsupported("'" + t + "' is not supported: the kernel filters can only keep"
                    + " connections, not leave some out (" + SUPPORTED + ")");
            case "src", "dst" -> throw new Unsupported("'" + t + "' is not supported: the kernel filters match either"
                    + " end of a connection (write 'host' or 'port' for either end)");
            case "tcp" -> {
                String n = peek();
                if ("port".equals(n) || "portrange".equals(n)) return primary();
                return new True();
            }
            case "port" -> {
                String v = next("a port after 'port'");
                return new Prim(true, List.of(port(v)), null, "port " + v);
            }
            case "portrange" -> {
                String v = next("a range after 'portrange'");
                int dash = v.indexOf('-');
                if (dash < 0) throw new Unsupported("portrange '" + v + "': expected FROM-TO");
                int from = port(v.substring(0, dash)), to = port(v.substring(dash + 1));
                if (to < from) throw new Unsupported("portrange '" + v + "' ends before it starts");
                if (to - from >= 64) throw new Unsupported("portrange '" + v + "': at most 64 ports");
                List<Integer> ports = new ArrayList<>();
                for (int p = from; p <= to; p++) ports.add(p);
                return new Prim(true, ports, null, "portrange " + v);
            }
            case "host", "net" -> {
                String v = next("an address after '" + t + "'");
                if ("mask".equals(peek())) throw new Unsupported("'net ... mask' is not supported: write net ADDR/LEN");
                if (t.equals("net") && !v.contains("/")) {
                    throw new Unsupported("net '" + v + "': write it as a CIDR prefix (net 10.0.0.0/8)");
                }
                return new Prim(false, null, v, t + " " + v);
            }
            default -> throw new Unsupported("'" + t + "' is not supported (httptrace reads TCP; " + SUPPORTED + ")");
        }
    }

    private static int port(String v) {
        try {
            int p = Integer.parseInt(v);
            if (p >= 1 && p <= 65535) return p;
        } catch (NumberFormatException e) {
            // below
        }
        throw new Unsupported("'" + v + "' is not a port number (1 to 65535; no service names)");
    }

    /** The expression as (ports) and (hosts), or the reason it cannot be. */
    private static Translation conjunction(Node n) {
        List<Node> clauses = new ArrayList<>();
        flattenAnd(n, clauses);
        List<Integer> ports = null;
        List<String> hosts = null;
        for (Node c : clauses) {
            if (c instanceof True) continue;
            List<Prim> prims = new ArrayList<>();
            if (flattenOr(c, prims)) continue; // an or holding 'tcp': always true
            boolean port = prims.getFirst().port();
            for (Prim p : prims) {
                if (p.port() != port) {
                    throw new Unsupported("'" + prims.getFirst().text() + " or " + p.text() + "' is not supported:"
                            + " 'or' joins primitives of one kind (ports, or hosts)");
                }
            }
            if (port) {
                if (ports != null) throw new Unsupported("two clauses of ports joined by 'and' are not supported"
                        + " (they would ask for both ends); write them with 'or'");
                ports = new ArrayList<>();
                for (Prim p : prims) ports.addAll(p.ports());
            } else {
                if (hosts != null) throw new Unsupported("two clauses of hosts joined by 'and' are not supported"
                        + " (they would ask for both ends); write them with 'or'");
                hosts = new ArrayList<>();
                for (Prim p : prims) hosts.add(p.host());
            }
        }
        return new Translation(ports == null ? List.of() : List.copyOf(ports), hosts == null ? List.of() : List.copyOf(hosts));
    }

    private static void flattenAnd(Node n, List<Node> out) {
        if (n instanceof And a) {
            for (Node p : a.parts()) flattenAnd(p, out);
        } else {
            out.add(n);
        }
    }

    /** Collects the primitives of an or; true when it holds 'tcp' (then it is always true). */
    private static boolean flattenOr(Node n, List<Prim> out) {
        return switch (n) {
            case Or o -> {
                boolean always = false;
                for (Node p : o.parts()) always |= flattenOr(p, out);
                yield always;
            }
            case Prim p -> {
                out.add(p);
                yield false;
            }
            case True t -> true;
            case And a -> throw new Unsupported("'and' inside 'or' is not supported: the kernel filters hold one set"
                    + " of ports and one of hosts");
        };
    }
}
