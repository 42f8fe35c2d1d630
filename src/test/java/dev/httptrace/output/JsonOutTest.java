package dev.httptrace.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The hand-written JSON of one record: separators, numbers, strings, as standard JSON. */
class JsonOutTest {

    private static String text(JsonOut o) {
        return new String(o.array(), 0, o.length(), StandardCharsets.UTF_8);
    }

    @Test
    void membersAndElementsAreSeparatedByCommasAtEveryLevel() {
        JsonOut o = new JsonOut();
        o.reset();
        o.startObject();
        o.field(JsonOut.name("a"));
        o.number(1);
        o.field(JsonOut.name("b"));
        o.startObject();
        o.field(JsonOut.name("c"));
        o.bool(true);
        o.field(JsonOut.name("d"));
        o.nullValue();
        o.endObject();
        o.field(JsonOut.name("e"));
        o.startArray();
        o.string("x");
        o.number(2);
        o.startObject();
        o.endObject();
        o.endArray();
        o.endObject();
        o.newline();
        assertEquals("{\"a\":1,\"b\":{\"c\":true,\"d\":null},\"e\":[\"x\",2,{}]}\n", text(o));
    }

    @Test
    void numbersAreWrittenInFull() {
        JsonOut o = new JsonOut();
        o.startArray();
        for (long v : new long[] {0, 7, 10, 1234567890123L, -5, Long.MAX_VALUE, Long.MIN_VALUE}) {
            o.number(v);
        }
        o.endArray();
        assertEquals("[0,7,10,1234567890123,-5,9223372036854775807,-9223372036854775808]", text(o));
    }

    @Test
    void stringsAreEscapedAndEncodedAsUtf8() {
        JsonOut o = new JsonOut();
        o.string("q\"b\\n\n\t\u0001\u007f é € \uD83D\uDE00 lone \uD800 end \uDC00");
        assertEquals("\"q\\\"b\\\\n\\n\\t\\u0001\u007f é € \uD83D\uDE00 lone \uFFFD end \uFFFD\"", text(o));
    }

    @Test
    void aRangeOfAStringIsWrittenWithoutTheRest() {
        JsonOut o = new JsonOut();
        o.string("/path?query", 1, 5);
        assertEquals("\"path\"", text(o));
    }

    @Test
    void resetStartsANewRecord() {
        JsonOut o = new JsonOut();
        o.startObject();
        o.field(JsonOut.name("half"));
        o.reset();
        o.startObject();
        o.endObject();
        assertEquals("{}", text(o));
        assertThrows(IllegalStateException.class, o::endObject, "nothing left to close");
    }
}
