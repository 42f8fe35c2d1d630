package dev.httptrace.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.httptrace.exchange.Exchange;
import dev.httptrace.exchange.ExchangeSink;
import dev.httptrace.output.StatusRanges;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The CI verdict on the exchanges written ({@code --fail-on STATUS}, {@code --expect N}),
 * decided when the run ends, however it ends. Passes every exchange on. When both fail, the
 * exit code is --fail-on's and both are reported.
 */
final class Verdict implements ExchangeSink {

    private final ExchangeSink next;
    private final StatusRanges failOn;
    private final long expect;
    private long failed;
    private long seen;

    /**
     * @param failOn statuses that fail the run; null: none do
     * @param expect the least number of exchanges the run must write; 0: any
     */
    Verdict(ExchangeSink next, StatusRanges failOn, long expect) {
        this.next = next;
        this.failOn = failOn;
        this.expect = expect;
    }

    @Override
    public void exchange(Exchange x) {
        seen++;
        if (failOn != null && x.response() != null && failOn.contains(x.response().statusCode())) {
            failed++;
        }
        next.exchange(x);
    }

    /** The exit code for a run that otherwise ended well: OK, FAIL_ON or EXPECT. */
    int exitCode() {
        if (failed > 0) {
            return ExitCode.FAIL_ON;
        }
        if (seen < expect) {
            return ExitCode.EXPECT;
        }
        return ExitCode.OK;
    }

    /** Why the run failed, one line per failed check (--fail-on, then --expect); empty when it passed. */
    List<String> reasons() {
        List<String> reasons = new ArrayList<>(2);
        if (failed > 0) {
            reasons.add(failed + " exchange" + (failed == 1 ? "" : "s") + " with status " + failOn + " (--fail-on)");
        }
        if (seen < expect) {
            reasons.add("expected at least " + expect + " exchange" + (expect == 1 ? "" : "s") + ", saw " + seen
                    + " (--expect)");
        }
        return reasons;
    }

    void json(JsonGenerator g) throws IOException {
        g.writeObjectFieldStart("verdict");
        if (failOn != null) {
            g.writeStringField("fail_on", failOn.toString());
            g.writeNumberField("failed", failed);
        }
        if (expect > 0) {
            g.writeNumberField("expect", expect);
        }
        g.writeBooleanField("passed", exitCode() == ExitCode.OK);
        g.writeArrayFieldStart("reasons");
        for (String reason : reasons()) {
            g.writeString(reason);
        }
        g.writeEndArray();
        g.writeEndObject();
    }
}
