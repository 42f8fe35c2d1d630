package dev.httptrace.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.httptrace.exchange.Exchange;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** --tls: records in the order of their request's timestamp, within a window. */
class ReorderWindowTest {

    static final long MS = 1_000_000L;
    final List<Long> out = new ArrayList<>();
    final ReorderWindow window = new ReorderWindow(250 * MS, x -> out.add(x.request().timestampNanos()));

    static Exchange at(long requestNanos) {
        return new Exchange(1, false, new Exchange.Endpoint(new byte[4], 1), new Exchange.Endpoint(new byte[4], 2),
                new Exchange.Request(requestNanos, "GET", "/", "1.1", List.of(), false, 0), null,
                new Exchange.TraceInfo("closed", false, 0, false));
    }

    @Test
    void aLaterCompletedEarlierRequestStillComesFirst() {
        window.add(at(200), 0);
        window.add(at(100), 150 * MS); // waited 150 ms for its peer
        window.release(249 * MS);
        assertEquals(List.of(), out, "nothing held for the window yet");
        window.release(250 * MS);
        assertEquals(List.of(100L, 200L), out);
    }

    @Test
    void noneIsHeldLongerThanTheWindow() {
        window.add(at(100), 0);
        window.add(at(300), 100 * MS);
        window.release(250 * MS);
        assertEquals(List.of(100L), out, "the second is not due yet");
        window.add(at(200), 300 * MS); // completed more than a window after the first: cannot go before it
        window.release(350 * MS);
        assertEquals(List.of(100L, 200L, 300L), out, "the first due releases the earliest request held");
        window.releaseAll();
        assertEquals(0, window.held());
    }

    @Test
    void theEndReleasesEverythingInOrder() {
        window.add(at(3), 0);
        window.add(at(1), 0);
        window.add(at(2), 0);
        window.releaseAll();
        assertEquals(List.of(1L, 2L, 3L), out);
    }
}
