package dev.httptrace.output;

import static dev.httptrace.output.Fixtures.x;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.httptrace.exchange.Exchange;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** --method, --path and --status, applied to exchanges before output. */
class ExchangeFilterTest {

    private static Exchange ex(String method, String target, int status) {
        Fixtures.X f = x();
        f.method = method;
        f.target = target;
        f.status = status;
        return f.build();
    }

    @Test
    void methodsAreAnyOfTheGivenOnesInAnyCase() {
        Exchange get = ex("GET", "/", 200), post = ex("POST", "/", 200), put = ex("PUT", "/", 200);
        ExchangeFilter f = new ExchangeFilter(x -> {}, Set.of("get", "Post"), null, null);
        assertTrue(f.accepts(get));
        assertTrue(f.accepts(post));
        assertFalse(f.accepts(put));
    }

    @Test
    void pathIsAPrefixOfTheUrlPathNotOfTheQuery() {
        ExchangeFilter f = new ExchangeFilter(x -> {}, Set.of(), "/api", null);
        assertTrue(f.accepts(ex("GET", "/api", 200)));
        assertTrue(f.accepts(ex("GET", "/api/users?id=1", 200)));
        assertTrue(f.accepts(ex("GET", "http://h:8080/api/x", 200)), "absolute form: the path after the authority");
        assertFalse(f.accepts(ex("GET", "/ap", 200)));
        assertFalse(f.accepts(ex("GET", "/x?next=/api", 200)));
        assertFalse(f.accepts(ex("GET", "*", 200)));
        ExchangeFilter withQuery = new ExchangeFilter(x -> {}, Set.of(), "/a?b", null);
        assertFalse(withQuery.accepts(ex("GET", "/a?b", 200)), "the query is not part of the path");
    }

    @Test
    void statusesAreCodesClassesAndRangesAndUnansweredNeverMatch() {
        ExchangeFilter f = new ExchangeFilter(x -> {}, Set.of(), null,
                StatusRanges.parse(List.of("5xx", "404", "300-302")));
        for (int s : new int[] {500, 503, 599, 404, 300, 301, 302}) {
            assertTrue(f.accepts(ex("GET", "/", s)), "status " + s);
        }
        for (int s : new int[] {200, 403, 405, 303, 499, 600}) {
            assertFalse(f.accepts(ex("GET", "/", s)), "status " + s);
        }
        assertFalse(f.accepts(x().unanswered("closed").build()));
    }

    @Test
    void allConditionsMustHoldAndOnlyMatchesArePassedOn() {
        List<Exchange> out = new ArrayList<>();
        ExchangeFilter f = new ExchangeFilter(out::add, Set.of("POST"), "/api", StatusRanges.parse(List.of("5xx")));
        Exchange match = ex("POST", "/api/x", 502);
        f.exchange(ex("GET", "/api/x", 502));
        f.exchange(ex("POST", "/web", 502));
        f.exchange(ex("POST", "/api/x", 201));
        f.exchange(match);
        assertEquals(List.of(match), out);
        assertFalse(f.passesAll());
        assertTrue(new ExchangeFilter(out::add, Set.of(), null, null).passesAll());
    }

    @Test
    void badStatusesSayWhy() {
        assertEquals("'2x' is not a status: use e.g. 404, 5xx or 400-499",
                assertThrows(IllegalArgumentException.class, () -> StatusRanges.parse(List.of("2x"))).getMessage());
        assertEquals("status range '499-400' ends before it starts",
                assertThrows(IllegalArgumentException.class, () -> StatusRanges.parse(List.of("499-400"))).getMessage());
        assertThrows(IllegalArgumentException.class, () -> StatusRanges.parse(List.of("0xx")));
        assertThrows(IllegalArgumentException.class, () -> StatusRanges.parse(List.of("99")));
        assertThrows(IllegalArgumentException.class, () -> StatusRanges.parse(List.of("1000")));
        assertThrows(IllegalArgumentException.class, () -> StatusRanges.parse(List.of("abc")));
        assertTrue(StatusRanges.parse(List.of("5XX")).contains(504));
    }
}
