package dev.httptrace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** tcpdump's filter expressions, as far as --port and --host can say them exactly. */
class FilterExpressionTest {

    static FilterExpression.Translation t(String expression) {
        return FilterExpression.translate(Arrays.asList(expression.split(" ")));
    }

    static String refused(String expression) {
        return assertThrows(FilterExpression.Unsupported.class, () -> t(expression)).getMessage();
    }

    @Test
    void portsAndHostsAndTheirConjunction() {
        assertEquals(new FilterExpression.Translation(List.of(9090), List.of("10.0.0.5")), t("port 9090 and host 10.0.0.5"));
        assertEquals(new FilterExpression.Translation(List.of(80, 8080), List.of()), t("tcp port 80 or port 8080"));
        assertEquals(new FilterExpression.Translation(List.of(80, 443), List.of("10.0.0.0/8", "::1")),
                t("(port 80 || port 443) && (net 10.0.0.0/8 or host ::1)"));
        assertEquals(new FilterExpression.Translation(List.of(8000, 8001, 8002), List.of()), t("portrange 8000-8002"));
        assertEquals(new FilterExpression.Translation(List.of(), List.of()), t("tcp"));
        assertEquals(new FilterExpression.Translation(List.of(80), List.of()), t("tcp and port 80"));
        assertEquals(new FilterExpression.Translation(List.of(), List.of()), t("(port 80 or tcp) or port 81"),
                "an or holding 'tcp' is always true");
        // One quoted argument and loose words alike.
        assertEquals(t("port 80 and host 10.0.0.5"),
                FilterExpression.translate(List.of("port 80 and", "host", "10.0.0.5")));
    }

    @Test
    void whatTheKernelFiltersCannotSayIsRefusedWithTheReason() {
        assertTrue(refused("src host 10.0.0.5").contains("either end"));
        assertTrue(refused("dst port 80").contains("either end"));
        assertTrue(refused("not port 22").contains("can only keep"));
        assertTrue(refused("port 80 or host 10.0.0.5").contains("one kind"));
        assertTrue(refused("port 80 and port 81").contains("both ends"));
        assertTrue(refused("(port 80 and host a) or port 81").contains("'and' inside 'or'"));
        assertTrue(refused("udp port 53").startsWith("'udp' is not supported"));
        assertTrue(refused("port http").contains("no service names"));
        assertTrue(refused("net 10.0.0.0").contains("CIDR"));
        assertTrue(refused("net 10.0.0.0 mask 255.0.0.0").contains("mask"));
        assertTrue(refused("portrange 1-100").contains("at most 64"));
        assertTrue(refused("port 80 and").contains("at the end"));
        assertTrue(refused("(port 80").contains("')'"));
        assertTrue(refused("port 80 host x").contains("unexpected 'host'"));
    }
}
