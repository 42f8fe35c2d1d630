package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What counts as CI for the live tests: the values CI services set, not only "true". */
class LiveTest {
    @Test
    void anyNonEmptyValueButFalseOrZeroIsCi() {
        for (String v : new String[] {"true", "TRUE", "True", "1", "yes", "on", "github"}) {
            assertTrue(Live.ci(v), v);
        }
        for (String v : new String[] {null, "", " ", "false", "FALSE", "False", "0"}) {
            assertFalse(Live.ci(v), String.valueOf(v));
        }
    }
}
