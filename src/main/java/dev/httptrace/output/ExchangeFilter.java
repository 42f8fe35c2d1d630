package dev.httptrace.output;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.exchange.ExchangeSink;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Passes on only the exchanges the user asked for ({@code --method}, {@code --path},
 * {@code --status}); all given conditions must hold. An unanswered exchange has no status,
 * so it never matches {@code --status}. Runs on every exchange: no allocation.
 */
public final class ExchangeFilter implements ExchangeSink {

    private final ExchangeSink next;
    private final Set<String> methods;
    private final String pathPrefix;
    private final StatusRanges statuses;
    private final Target target = new Target();

    /**
     * @param methods    request methods to keep (compared case-sensitively after upper-casing
     *                   the given names, as methods are upper case by convention); empty keeps all
     * @param pathPrefix keep exchanges whose URL path starts with this; null keeps all
     * @param statuses   response statuses to keep; null keeps all (unanswered too)
     */
    public ExchangeFilter(ExchangeSink next, Set<String> methods, String pathPrefix, StatusRanges statuses) {
        this.next = next;
        this.methods = methods.stream().map(m -> m.toUpperCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        this.pathPrefix = pathPrefix;
        this.statuses = statuses;
    }

    /** True when no condition is set: the caller can leave the filter out. */
    public boolean passesAll() {
        return methods.isEmpty() && pathPrefix == null && statuses == null;
    }

    @Override
    public void exchange(Exchange x) {
        if (accepts(x)) {
            next.exchange(x);
        }
    }

    boolean accepts(Exchange x) {
        Exchange.Request rq = x.request();
        if (!methods.isEmpty() && (rq.method() == null || !methods.contains(rq.method()))) {
            return false;
        }
        if (statuses != null && (x.response() == null || !statuses.contains(x.response().statusCode()))) {
            return false;
        }
        return pathPrefix == null || pathStartsWith(rq);
    }

    /** The path as the records give it (url.path), without a substring. */
    private boolean pathStartsWith(Exchange.Request rq) {
        String t = rq.target();
        if (t == null) {
            return false;
        }
        target.parse(rq.method(), t);
        if (target.pathStart < 0) {
            return pathPrefix.isEmpty();
        }
        return target.pathEnd - target.pathStart >= pathPrefix.length()
                && t.startsWith(pathPrefix, target.pathStart);
    }
}
