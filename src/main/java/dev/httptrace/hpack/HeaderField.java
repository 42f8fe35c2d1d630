package dev.httptrace.hpack;

/**
 * One decoded header field. Names and values are the field's octets as ISO-8859-1 characters
 * (one char per octet), so {@code length()} is the octet count HPACK sizes are made of.
 *
 * @param name         the name, or null when unknown (it comes from a dynamic table entry this
 *                     decoder never saw, from before a mid-way join or a capture hole)
 * @param value        the value, or null when unknown (as for {@code name}; also a value that was
 *                     over {@link HpackDecoder.Limits#maxStringBytes()} when it was inserted)
 * @param sensitive    the field came as a never-indexed literal (RFC 7541 6.2.3): treat it as a
 *                     secret, like {@code authorization}
 * @param unknownIndex the HPACK index (62 and up) that was referenced when {@code name} or
 *                     {@code value} is null, else 0
 */
public record HeaderField(String name, String value, boolean sensitive, int unknownIndex) {
    /** True when the name or the value is unknown. */
    public boolean unknown() {
        return name == null || value == null;
    }
}
