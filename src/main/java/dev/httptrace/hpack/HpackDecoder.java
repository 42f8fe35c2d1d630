package dev.httptrace.hpack;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An HPACK decoder (RFC 7541) for one direction of one HTTP/2 connection, honest about what
 * it cannot know.
 *
 * <p>The dynamic table is modelled as the <em>known newest entries</em> plus a flag, "there
 * may be older entries I never saw" (the unknown tail): set when the connection was joined
 * mid-way, after {@link #lost()} and after a decode error. Indices count from the newest
 * entry, so every entry inserted since then resolves exactly; a reference past the known
 * entries gives a field with a null name and value and the index ({@link HeaderField}), and
 * decoding goes on. A literal with incremental indexing is always inserted, also when its
 * name is unknown (the entry then has a null name): the table never drifts from the
 * encoder's, so a known index never yields a stale or wrong value.
 *
 * <p>Sizes are bookkept conservatively. Entry sizes are lower bounds (an unknown name counts
 * 0 octets), and entries are evicted only when that is provable from an upper bound of the
 * encoder's maximum table size (the last size update, else the SETTINGS limit). Keeping an
 * entry the encoder evicted is harmless (it is never referenced again); evicting one it kept
 * would only turn a later reference into "unknown". The unknown tail is dropped (a
 * resynchronisation, {@link #resyncs()}) only when proven: a size update below 32 octets
 * (e.g. to 0), or known entries whose size leaves no room for one more under that bound.
 * Memory is bounded: the known entries are capped at 64 KiB while the maximum size is unknown
 * (and at most 1 MiB in any case; entries evicted for that count as unknown afterwards), and
 * strings over {@link Limits#maxStringBytes()} are never materialised.
 *
 * <p>Not thread-safe: one decoder per connection and direction, fed in order.
 */
public final class HpackDecoder {
    /**
     * Limits per header block.
     *
     * @param maxHeaderListBytes the most name + value + 32 octets summed over the fields kept
     * @param maxFields          the most fields kept
     * @param maxStringBytes     the longest name or value materialised; a longer literal drops
     *                           its field and the rest of the block (as {@code truncated}), and
     *                           is inserted with a null string if it is to be indexed
     */
    public record Limits(int maxHeaderListBytes, int maxFields, int maxStringBytes) {
        public Limits {
            if (maxHeaderListBytes < 0 || maxFields < 0 || maxStringBytes < 0) {
                throw new IllegalArgumentException("HPACK limits must not be negative");
            }
        }

        /** 64 KiB of header list, 1024 fields, 64 KiB per string. */
        public static Limits defaults() {
            return new Limits(64 * 1024, 1024, 64 * 1024);
        }
    }

    /** SETTINGS_HEADER_TABLE_SIZE and the encoder's maximum before any SETTINGS (RFC 9113 6.5.2). */
    public static final int DEFAULT_TABLE_SIZE = 4096;
    /** Cap on the known entries' size while the maximum is unknown or small. */
    static final long MIN_TABLE_CAP = 64 * 1024;
    /** Cap on the known entries' size whatever the peer allows. */
    static final long MAX_TABLE_CAP = 1024 * 1024;
    private static final long UNKNOWN = -1;
    private static final int OK = 0, TOO_LONG = 1, ERROR = 2;

    private final Limits limits;

    // The known entries: a ring, newest at (head - 1) & mask. Sizes are lower bounds.
    private String[] names = new String[16];
    private String[] values = new String[16];
    private long[] nameLengths = new long[16];
    private long[] sizes = new long[16];
    /** The field an indexed reference hands out, when name and value are both known. */
    private HeaderField[] fields = new HeaderField[16];
    private int head;
    private int count;
    private long knownSize;
    private boolean unknownTail;

    /** The encoder's maximum table size, from its last size update, or UNKNOWN. */
    private long maxSize;
    /** The decoding peer's SETTINGS_HEADER_TABLE_SIZE, or UNKNOWN. */
    private long settingsLimit;
    /** After SETTINGS lowered the limit: the old one, still allowed until a size update obeys the new one. */
    private long graceLimit = UNKNOWN;

    private long blocks, unknownFields, errors, resyncs;

    // Per block.
    private int pos;
    private String str;
    private long strLength;
    private byte[] scratch = new byte[256];
    private ArrayList<HeaderField> out;
    private long listBytes;
    private boolean truncated;
    private int unknownInBlock;

    /**
     * @param joinedMidStream true when the connection was not seen from its start: the dynamic
     *                        table may hold entries never seen, and its maximum size is unknown
     * @param limits          per-block limits
     */
    public HpackDecoder(boolean joinedMidStream, Limits limits) {
        this.limits = limits == null ? Limits.defaults() : limits;
        unknownTail = joinedMidStream;
        maxSize = joinedMidStream ? UNKNOWN : DEFAULT_TABLE_SIZE;
        settingsLimit = joinedMidStream ? UNKNOWN : DEFAULT_TABLE_SIZE;
    }

    /**
     * Decodes one complete header block (a HEADERS or PUSH_PROMISE fragment plus its
     * CONTINUATIONs, concatenated, padding and priority already removed). Never throws on any
     * input; invalid bounds count as an error block, after which the table state is unknown.
     */
    public HeaderBlock decode(byte[] buf, int off, int len) {
        blocks++;
        out = null;
        listBytes = 0;
        truncated = false;
        unknownInBlock = 0;
        boolean error = false;
        if (buf == null || off < 0 || len < 0 || off > buf.length - len) {
            error = true;
        } else {
            pos = off;
            int end = off + len;
            boolean fieldSeen = false;
            while (pos < end) {
                int b = buf[pos++] & 0xFF;
                boolean ok;
                if (b >= 0x80) { // 6.1 indexed header field
                    ok = indexed(readInt(buf, end, b, 7));
                    fieldSeen = true;
                } else if (b >= 0x40) { // 6.2.1 literal with incremental indexing
                    ok = literal(buf, end, b, 6, true, false);
                    fieldSeen = true;
                } else if (b >= 0x20) { // 6.3 dynamic table size update, only at the start (4.2)
                    ok = !fieldSeen && sizeUpdate(readInt(buf, end, b, 5));
                } else { // 6.2.2 without indexing (0000), 6.2.3 never indexed (0001)
                    ok = literal(buf, end, b, 4, false, (b & 0x10) != 0);
                    fieldSeen = true;
                }
                if (!ok) {
                    error = true;
                    break;
                }
            }
        }
        if (error) {
            errors++;
            forget();
        }
        unknownFields += unknownInBlock;
        List<HeaderField> list = out == null ? List.of() : Collections.unmodifiableList(out);
        HeaderBlock block = new HeaderBlock(list, unknownInBlock, error, truncated);
        out = null;
        str = null;
        return block;
    }

    /**
     * The peer that decodes (whose SETTINGS these are) announced SETTINGS_HEADER_TABLE_SIZE:
     * the encoder's table can be at most this. Call it when the SETTINGS frame is seen. A lower
     * value than before is enforced on size updates only once one obeys it (blocks already in
     * flight may still use the old size); the encoder's current maximum stays what its last
     * size update said.
     */
    public void settingsHeaderTableSize(long bytes) {
        if (bytes < 0) return;
        bytes = Math.min(bytes, 0xFFFF_FFFFL);
        if (settingsLimit != UNKNOWN && bytes < settingsLimit) graceLimit = Math.max(graceLimit, settingsLimit);
        settingsLimit = bytes;
        if (graceLimit != UNKNOWN && graceLimit <= bytes) graceLimit = UNKNOWN;
        if (maxSize == UNKNOWN) tableChanged();
    }

    /** Bytes of this direction's header blocks were lost (a capture hole): table state unknown from here, as after a mid-way join. */
    public void lost() {
        forget();
    }

    /** True when every entry of the dynamic table is known (seen from the start, or provably resynchronised). */
    public boolean synced() {
        return !unknownTail;
    }

    /** Header blocks decoded (every call of {@link #decode}). */
    public long blocks() {
        return blocks;
    }

    /** Fields returned with an unknown name or value, over all blocks. */
    public long unknownFields() {
        return unknownFields;
    }

    /** Blocks that were not valid HPACK. */
    public long errors() {
        return errors;
    }

    /** Times the table became provably complete again after being partial. */
    public long resyncs() {
        return resyncs;
    }

    /** Known dynamic table entries. */
    public int tableEntries() {
        return count;
    }

    /** The known entries' size (RFC 7541 4.1); a lower bound where an entry's name is unknown. */
    public long tableSize() {
        return knownSize;
    }

    /** The encoder's maximum table size from its last size update (or the default), -1 when unknown. */
    public long maxTableSize() {
        return maxSize;
    }

    /** Name of known dynamic entry i (1 = newest), null when unknown. */
    String entryName(int i) {
        return names[(head - i) & (names.length - 1)];
    }

    /** Value of known dynamic entry i (1 = newest), null when unknown. */
    String entryValue(int i) {
        return values[(head - i) & (names.length - 1)];
    }

    // ---- representations

    private boolean indexed(int index) {
        if (index <= 0) return false; // 0 is not a valid index (6.1), < 0 a bad integer
        if (index <= StaticTable.LENGTH) {
            emit(StaticTable.FIELDS[index]);
            return true;
        }
        int d = index - StaticTable.LENGTH;
        if (d <= count) {
            int slot = (head - d) & (names.length - 1);
            HeaderField f = fields[slot];
            emit(f != null ? f : new HeaderField(names[slot], values[slot], false, index));
            return true;
        }
        if (!unknownTail) return false; // an entry that provably does not exist
        emit(new HeaderField(null, null, false, index));
        return true;
    }

    private boolean literal(byte[] buf, int end, int first, int prefix, boolean index, boolean sensitive) {
        int nameIndex = readInt(buf, end, first, prefix);
        if (nameIndex < 0) return false;
        String name;
        long nameLength;
        boolean drop = false;
        if (nameIndex == 0) {
            int r = readString(buf, end);
            if (r == ERROR) return false;
            drop = r == TOO_LONG;
            name = str;
            nameLength = strLength;
        } else if (nameIndex <= StaticTable.LENGTH) {
            name = StaticTable.NAMES[nameIndex];
            nameLength = name.length();
        } else if (nameIndex - StaticTable.LENGTH <= count) {
            int slot = (head - (nameIndex - StaticTable.LENGTH)) & (names.length - 1);
            name = names[slot];
            nameLength = nameLengths[slot];
        } else if (unknownTail) {
            name = null;
            nameLength = 0; // unknown: 0 is a lower bound
        } else {
            return false;
        }
        int r = readString(buf, end);
        if (r == ERROR) return false;
        drop |= r == TOO_LONG;
        String value = str;
        long valueLength = strLength;
        HeaderField f = null;
        if (name != null && value != null) {
            f = new HeaderField(name, value, sensitive, 0);
        } else if (!drop) {
            f = new HeaderField(null, value, sensitive, nameIndex);
        }
        if (index) insert(name, nameLength, value, valueLength, name != null && value != null ? f : null);
        if (drop) {
            truncated = true; // a string over the limit: it and the rest of the block are dropped
        } else {
            emit(f);
        }
        return true;
    }

    private boolean sizeUpdate(int size) {
        if (size < 0) return false;
        long limit = Math.max(settingsLimit, graceLimit);
        if (limit != UNKNOWN && size > limit) return false; // over SETTINGS_HEADER_TABLE_SIZE (6.3)
        if (graceLimit != UNKNOWN && size <= settingsLimit) graceLimit = UNKNOWN;
        maxSize = size;
        tableChanged();
        return true;
    }

    private void emit(HeaderField f) {
        if (truncated) return;
        if (out != null && out.size() >= limits.maxFields()) {
            truncated = true;
            return;
        }
        long bytes = 32L + (f.name() == null ? 0 : f.name().length()) + (f.value() == null ? 0 : f.value().length());
        if (listBytes + bytes > limits.maxHeaderListBytes() || limits.maxFields() == 0) {
            truncated = true;
            return;
        }
        listBytes += bytes;
        if (out == null) out = new ArrayList<>();
        out.add(f);
        if (f.name() == null || f.value() == null) unknownInBlock++;
    }

    // ---- primitives

    /**
     * An integer with an N-bit prefix (5.1) whose first octet was already read; -1 when the
     * block ends inside it or it does not fit in an int (at most 5 continuation octets).
     */
    private int readInt(byte[] buf, int end, int first, int prefixBits) {
        int max = (1 << prefixBits) - 1;
        int v = first & max;
        if (v < max) return v;
        long acc = v;
        for (int shift = 0; shift <= 28; shift += 7) {
            if (pos >= end) return -1;
            int b = buf[pos++] & 0xFF;
            acc += (long) (b & 0x7F) << shift;
            if (acc > Integer.MAX_VALUE) return -1;
            if ((b & 0x80) == 0) return (int) acc;
        }
        return -1;
    }

    /**
     * A string literal (5.2) into {@link #str} and its octet length into {@link #strLength}:
     * OK; TOO_LONG (over maxStringBytes: str is null, the length exact); ERROR.
     */
    private int readString(byte[] buf, int end) {
        str = null;
        if (pos >= end) return ERROR;
        int first = buf[pos++] & 0xFF;
        int len = readInt(buf, end, first, 7);
        if (len < 0 || len > end - pos) return ERROR; // never allocates for a length the block does not hold
        int start = pos;
        pos += len;
        int maxString = limits.maxStringBytes();
        if ((first & 0x80) == 0) {
            strLength = len;
            if (len > maxString) return TOO_LONG;
            str = len == 0 ? "" : new String(buf, start, len, StandardCharsets.ISO_8859_1);
            return OK;
        }
        int room = Huffman.maxDecodedLength(len);
        if (room > maxString) {
            int n = Huffman.decodedLength(buf, start, len);
            if (n < 0) return ERROR;
            strLength = n;
            if (n > maxString) return TOO_LONG;
            room = n;
        }
        if (scratch.length < room) scratch = new byte[Math.max(room, Math.min(maxString, 2 * scratch.length))];
        int n = Huffman.decode(buf, start, len, scratch);
        if (n < 0) return ERROR;
        strLength = n;
        str = n == 0 ? "" : new String(scratch, 0, n, StandardCharsets.ISO_8859_1);
        return OK;
    }

    // ---- the dynamic table

    private void insert(String name, long nameLength, String value, long valueLength, HeaderField field) {
        if (count == names.length) grow();
        int slot = head;
        names[slot] = name;
        values[slot] = value;
        nameLengths[slot] = nameLength;
        long size = nameLength + valueLength + 32;
        sizes[slot] = size;
        fields[slot] = field;
        head = (head + 1) & (names.length - 1);
        count++;
        knownSize += size;
        tableChanged();
    }

    /** After an insert, a size update or a new SETTINGS: evict what is provably gone, bound memory, check for resync. */
    private void tableChanged() {
        long bound = upperBound();
        if (bound != UNKNOWN) {
            while (count > 0 && knownSize > bound) removeOldest();
        }
        long cap = bound == UNKNOWN ? MIN_TABLE_CAP : Math.clamp(bound, MIN_TABLE_CAP, MAX_TABLE_CAP);
        boolean capped = false;
        while (count > 0 && knownSize > cap) {
            removeOldest();
            unknownTail = true; // the encoder may still hold it
            capped = true;
        }
        if (unknownTail && !capped && bound != UNKNOWN && knownSize + 32 > bound) {
            unknownTail = false; // not even the smallest entry could be older than the known ones
            resyncs++;
        }
    }

    /** An upper bound of the encoder's maximum table size, or UNKNOWN. */
    private long upperBound() {
        if (maxSize != UNKNOWN) return maxSize;
        return Math.max(settingsLimit, graceLimit);
    }

    private void removeOldest() {
        int slot = (head - count) & (names.length - 1);
        knownSize -= sizes[slot];
        names[slot] = null;
        values[slot] = null;
        fields[slot] = null;
        count--;
    }

    private void grow() {
        int n = names.length;
        String[] nn = new String[2 * n], nv = new String[2 * n];
        long[] nl = new long[2 * n], ns = new long[2 * n];
        HeaderField[] nf = new HeaderField[2 * n];
        for (int i = 0; i < count; i++) { // oldest first, to slots 0..count-1
            int from = (head - count + i) & (n - 1);
            nn[i] = names[from];
            nv[i] = values[from];
            nl[i] = nameLengths[from];
            ns[i] = sizes[from];
            nf[i] = fields[from];
        }
        names = nn;
        values = nv;
        nameLengths = nl;
        sizes = ns;
        fields = nf;
        head = count;
    }

    private void forget() {
        while (count > 0) removeOldest();
        knownSize = 0;
        unknownTail = true;
        maxSize = UNKNOWN; // a lost block may have held a size update
    }
}
