package dev.httptrace.hpack;

import java.util.List;

/**
 * One decoded header block.
 *
 * @param fields        the fields in block order; always a prefix of the block's true field list
 *                      (fields past an error or a limit are left out, none in between)
 * @param unknownFields how many of {@code fields} have an unknown name or value
 * @param error         the block's bytes were not valid HPACK (or referred to a dynamic entry the
 *                      decoder knows cannot exist); {@code fields} are those decoded before the error
 * @param truncated     the block went over a size limit: the fields from there on were dropped
 *                      (they were still decoded, so the dynamic table stays in step)
 */
public record HeaderBlock(List<HeaderField> fields, int unknownFields, boolean error, boolean truncated) {
}
