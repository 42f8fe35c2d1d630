// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Socket filter attached to a raw AF_PACKET socket. For every packet it parses
 * IPv4/IPv6 and TCP (802.1Q/802.1ad tags included), drops in the kernel what user
 * space would drop anyway, and writes one record per remaining TCP segment to a
 * perf buffer: a fixed header plus a bounded prefix of the payload.
 *
 * It always returns 0, so the raw socket itself never queues a packet: the perf
 * buffer is the only way out.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "httptrace_event.h"

/* Set by the loader before the program is loaded. */
const volatile __u32 snaplen = HT_DEFAULT_SNAPLEN;
const volatile __u32 loopback_ifindex = 1;
const volatile __u8 filter_ports = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

/* Ports asked for (either end of the connection); filled before attaching. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HT_MAX_PORTS);
	__type(key, __u16);
	__type(value, __u8);
} ports SEC(".maps");

/*
 * Hosts asked for (either end): addresses and CIDR prefixes, filled before attaching
 * (ht_add_host), which also sets filter_hosts. Not in .rodata: it is set after load.
 */
volatile __u8 filter_hosts = 0;

/*
 * Several -i: the socket is bound to no interface and only these ifindexes are kept, set
 * by ht_attach with filter_ifaces (not in .rodata: set after load). One -i binds instead.
 */
volatile __u8 filter_ifaces = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HT_MAX_IFACES);
	__type(key, __u32);
	__type(value, __u8);
} ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, HT_MAX_HOSTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ht_host_key);
	__type(value, __u8);
} hosts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HT_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/*
 * A record is too big for the 512-byte BPF stack: build it in this CPU's slot. A
 * plain array indexed by CPU, because per-CPU map values are limited to 32 KiB;
 * the loader sizes it to the number of possible CPUs. Socket filters run with
 * migration disabled, so a CPU's slot has one user at a time.
 */
struct event_slot {
	struct ht_event hdr;
	__u8 payload[HT_MAX_SNAPLEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event_slot);
} slots SEC(".maps");

#define IPV6_EXT_HEADERS_MAX 4
#define IP_FRAG_OFFSET_MASK 0x1fff
/* Where the network header may start in the socket's view of a packet: no link header
 * (tun, BPF_PROG_TEST_RUN), Ethernet (also loopback), Ethernet with one or two tags. */
#define LINK_OFFSETS 4
static const __u32 link_offsets[LINK_OFFSETS] = {14, 0, 18, 22};

static __always_inline void count(__u32 index)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &index);

	if (value)
		*value += 1;
}

static __always_inline int port_wanted(__u16 sport, __u16 dport)
{
	if (!filter_ports)
		return 1;
	return bpf_map_lookup_elem(&ports, &sport) || bpf_map_lookup_elem(&ports, &dport);
}

/* True when no host was asked for, or the source or destination address is in a prefix asked for. */
static __always_inline int host_wanted(const struct ht_event *ev)
{
	struct ht_host_key key;

	if (!filter_hosts)
		return 1;
	__builtin_memset(&key, 0, sizeof(key));
	key.prefixlen = 8 + (ev->family == 4 ? 32 : 128);
	key.family = ev->family;
	__builtin_memcpy(key.addr, ev->saddr, sizeof(key.addr));
	if (bpf_map_lookup_elem(&hosts, &key))
		return 1;
	__builtin_memcpy(key.addr, ev->daddr, sizeof(key.addr));
	return bpf_map_lookup_elem(&hosts, &key) != NULL;
}

/*
 * Offset of the network header from the start of the packet as bpf_skb_load_bytes()
 * sees it. The kernel knows it, but a socket filter cannot read it, and the helper
 * that reads relative to it (bpf_skb_load_bytes_relative) only reads the linear part
 * of the buffer, where payloads often are not. So: read the first bytes at the network
 * header (always linear) and find where the same bytes sit from the start.
 */
static __always_inline int find_network_offset(struct __sk_buff *skb, __u32 *offset)
{
	__u64 want[2], got[2];

	if (bpf_skb_load_bytes_relative(skb, 0, want, sizeof(want), BPF_HDR_START_NET))
		return -1;
	for (int i = 0; i < LINK_OFFSETS; i++) {
		if (bpf_skb_load_bytes(skb, link_offsets[i], got, sizeof(got)))
			continue;
		if (got[0] == want[0] && got[1] == want[1]) {
			*offset = link_offsets[i];
			return 0;
		}
	}
	return -1;
}

/*
 * Response bodies of known length. User space frames a body by its Content-Length and
 * needs only the sequence numbers and lengths of its segments, not its bytes: once a
 * response head has been seen here with a length that runs past its segment, the later
 * segments lying wholly inside the body are sent as header-only records (captured_len 0).
 * Key: one direction of a connection; value: the sequence number just past the body.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ht_flow);
	__type(value, __u32);
} body_ends SEC(".maps");

/* A segment opening a response is scanned for its framing only when it is this long. */
#define BODY_SCAN_MIN 2048
/* Heads longer than this are not scanned (their body bytes simply reach user space). */
#define HEAD_SCAN_MAX 1024
#define CONTENT_LENGTH_DIGITS_MAX 9 /* up to 999,999,999 bytes: a skip stays within 2^31 */

/*
 * What the scan of a response head found; the bpf_loop callback's context. Only the
 * callback's own index is used to address bytes, so the verifier checks it once.
 */
struct head_scan {
	const __u8 *p;          /* the payload prefix in this CPU's slot */
	__u32 len;              /* bytes of it to scan, at most HEAD_SCAN_MAX - 24 */
	__u32 head_len;         /* bytes up to and including the empty line; 0 until found */
	__s64 length;           /* the Content-Length value; -1 when it is not a number */
	__u8 has_length;        /* a Content-Length line was seen */
	__u8 unsure;            /* a second Content-Length, or a Transfer-Encoding: not skipped */
};

/*
 * Header names compared eight bytes at a time, little-endian, letters lower-cased by
 * OR-ing 0x20 into letter positions only, so that the match is exact.
 */
#define CONTENT_  0x2d746e65746e6f63ULL /* "content-" */
#define CONTENT_CASE 0x0020202020202020ULL
#define LENGTH_   0x003a6874676e656cULL /* "length:" (7 bytes) */
#define LENGTH_CASE 0x0000202020202020ULL
#define LENGTH_MASK 0x00ffffffffffffffULL
#define TRANSFER  0x726566736e617274ULL /* "transfer" */
#define TRANSFER_CASE 0x2020202020202020ULL
#define ENCODIN   0x6e69646f636e652dULL /* "-encodin" */
#define ENCODIN_CASE 0x2020202020202000ULL
#define G_COLON   0x3a67                /* "g:" */
#define G_COLON_CASE 0x0020

static __always_inline __u8 byte_at(const __u8 *p, __u64 off)
{
	return p[off & (HEAD_SCAN_MAX - 1)];
}

static __always_inline __u64 load8(const __u8 *p, __u64 off)
{
	return *(const __u64 *)(p + (off & (HEAD_SCAN_MAX - 1)));
}

/*
 * The decimal value at off (after at most two spaces), or -1 when there is none or it has
 * more than CONTENT_LENGTH_DIGITS_MAX digits. Written so that the verifier follows few paths.
 */
static __always_inline __s64 decimal_at(const __u8 *p, __u64 off)
{
	__s64 v = 0;
	__u32 k;

	if (byte_at(p, off) == ' ')
		off++;
	if (byte_at(p, off) == ' ')
		off++;
	for (k = 0; k <= CONTENT_LENGTH_DIGITS_MAX; k++) {
		__u8 c = byte_at(p, off + k);

		if (c < '0' || c > '9')
			break;
		v = v * 10 + (c - '0');
	}
	return k == 0 || k > CONTENT_LENGTH_DIGITS_MAX ? -1 : v;
}

/* One byte position per call; only line starts are looked at. */
static long scan_head_byte(__u64 i, void *ctx)
{
	struct head_scan *h = ctx;
	const __u8 *p = h->p;

	if (i >= h->len)
		return 1;
	if (i == 0 || byte_at(p, i - 1) != '\n')
		return 0;
	if (byte_at(p, i) == '\n' || (byte_at(p, i) == '\r' && byte_at(p, i + 1) == '\n')) {
		h->head_len = i + (byte_at(p, i) == '\r' ? 2 : 1); /* the empty line ends the head */
		return 1;
	}
	if ((load8(p, i) | CONTENT_CASE) == CONTENT_ &&
	    ((load8(p, i + 8) | LENGTH_CASE) & LENGTH_MASK) == LENGTH_) {
		if (h->has_length)
			h->unsure = 1;
		h->has_length = 1;
		h->length = decimal_at(p, i + 15);
	} else if ((load8(p, i) | TRANSFER_CASE) == TRANSFER &&
		   (load8(p, i + 8) | ENCODIN_CASE) == ENCODIN &&
		   ((__u16)load8(p, i + 16) | G_COLON_CASE) == G_COLON) {
		h->unsure = 1;
	}
	return 0;
}

/*
 * Connections whose plaintext the TLS probes report (ht_skip_connection, both directions):
 * their ciphertext is not copied. SYN, FIN and RST still are, and remove the entry of
 * their direction, so a later connection with the same addresses and ports is seen.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ht_flow);
	__type(value, __u8);
} tls_flows SEC(".maps");

/* Set by user space when it adds the first entry to tls_flows (not in .rodata: after load). */
volatile __u8 filter_tls_flows = 0;

static __always_inline void flow_dir_of(const struct ht_event *ev, struct ht_flow *key)
{
	__builtin_memcpy(key->saddr, ev->saddr, 16);
	__builtin_memcpy(key->daddr, ev->daddr, 16);
	key->sport = ev->sport;
	key->dport = ev->dport;
	key->family = ev->family;
}

/*
 * How many payload bytes the record carries: none for a segment wholly inside a response
 * body whose length a head seen earlier gave; else what was copied. Segments that begin
 * with an upper-case letter (a status line, a request line) are always copied whole: so a
 * wrong guess (the answer to a HEAD request has a length but no body) never hides a head.
 */
static __always_inline __u32 skip_body(const struct ht_event *ev, const __u8 *payload, __u32 len)
{
	struct ht_flow key = {};
	struct head_scan h = {};
	__u32 *end, body_end;
	int starts_head = len > 0 && payload[0] >= 'A' && payload[0] <= 'Z';

	flow_dir_of(ev, &key);
	if (ev->tcp_flags & 0x07) { /* SYN, FIN, RST: a new or ended stream inherits nothing */
		bpf_map_delete_elem(&body_ends, &key);
		return len;
	}
	if (ev->payload_len == 0)
		return len;
	end = bpf_map_lookup_elem(&body_ends, &key);
	if (end) {
		if (!starts_head && (__s32)(ev->seq + ev->payload_len - *end) <= 0)
			return 0;
		bpf_map_delete_elem(&body_ends, &key); /* the body ends in this segment, or was no body */
	}
	if (!starts_head || ev->payload_len < BODY_SCAN_MIN || len < 13)
		return len;
	if (payload[0] != 'H' || payload[1] != 'T' || payload[2] != 'T' || payload[3] != 'P' ||
	    payload[4] != '/')
		return len;
	/* No body: 1xx, 204, 304. */
	if (payload[9] == '1' || (payload[9] == '2' && payload[10] == '0' && payload[11] == '4') ||
	    (payload[9] == '3' && payload[10] == '0' && payload[11] == '4'))
		return len;
	h.p = payload;
	/* Heads that end past the scanned part are not skipped; 24: room for a name and a value. */
	h.len = len < HEAD_SCAN_MAX - 24 ? len : HEAD_SCAN_MAX - 24;
	bpf_loop(HEAD_SCAN_MAX, scan_head_byte, &h, 0);
	/* One Content-Length and no Transfer-Encoding: anything else is user space's to judge. */
	if (!h.head_len || !h.has_length || h.unsure || h.length < 0)
		return len;
	body_end = ev->seq + h.head_len + (__u32)h.length;
	if ((__s32)(body_end - (ev->seq + ev->payload_len)) > 0)
		bpf_map_update_elem(&body_ends, &key, &body_end, BPF_ANY);
	return len;
}

/*
 * Connections read as HTTP/2 (both directions): HPACK needs every byte of every header block,
 * in order, so their segments are copied whole instead of a snaplen prefix. Entered here when
 * a client preface is seen, or by user space (ht_capture_whole) for a connection it recognised
 * mid-way; a SYN or RST of a direction removes its entry.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ht_flow);
	__type(value, __u8);
} whole_flows SEC(".maps");

#define HTTP2_PREFACE_LEN 24
#define PREFACE_0 0x5448202a20495250ULL /* "PRI * HT" */
#define PREFACE_1 0x0a0d302e322f5054ULL /* "TP/2.0\r\n" */
#define PREFACE_2 0x0a0d0a0d4d530a0dULL /* "\r\nSM\r\n\r\n" */

static __always_inline int is_http2_preface(const __u8 *p)
{
	return *(const __u64 *)p == PREFACE_0 && *(const __u64 *)(p + 8) == PREFACE_1 &&
	       *(const __u64 *)(p + 16) == PREFACE_2;
}

static __always_inline int whole_flow(const struct ht_event *ev)
{
	struct ht_flow key = {};

	flow_dir_of(ev, &key);
	if (ev->tcp_flags & 0x06) { /* SYN, RST: a new connection, or none */
		bpf_map_delete_elem(&whole_flows, &key);
		return 0;
	}
	return bpf_map_lookup_elem(&whole_flows, &key) != NULL;
}

static __always_inline void capture_whole(const struct ht_event *ev)
{
	struct ht_flow there = {}, back = {};
	__u8 yes = 1;

	flow_dir_of(ev, &there);
	__builtin_memcpy(back.saddr, ev->daddr, 16);
	__builtin_memcpy(back.daddr, ev->saddr, 16);
	back.sport = ev->dport;
	back.dport = ev->sport;
	back.family = ev->family;
	bpf_map_update_elem(&whole_flows, &there, &yes, BPF_ANY);
	bpf_map_update_elem(&whole_flows, &back, &yes, BPF_ANY);
}

/*
 * One record of a segment copied whole: its bytes [at, at + HT_MAX_SNAPLEN) as if they were a
 * segment of their own (sequence number advanced, FIN and RST only on the last piece), since one
 * perf record cannot hold a 64 KiB loopback segment. Past two pieces, a record without bytes
 * says how many were left out.
 */
static __always_inline void emit_piece(struct __sk_buff *skb, struct event_slot *s, __u32 off, __u32 at,
				       __u32 total, __u32 seq, __u8 flags)
{
	struct ht_event *ev = &s->hdr;
	__u32 wire, len = 0;

	if (at >= total)
		return;
	wire = total - at;
	if (at < 2 * HT_MAX_SNAPLEN) {
		if (wire > HT_MAX_SNAPLEN)
			wire = HT_MAX_SNAPLEN;
		len = wire & (HT_MAX_SNAPLEN * 2 - 1);
		if (len < 1 || len > HT_MAX_SNAPLEN || bpf_skb_load_bytes(skb, off + at, s->payload, len))
			len = 0;
	}
	ev->seq = seq + at;
	ev->payload_len = wire;
	ev->tcp_flags = at + wire < total ? flags & ~0x05 : flags;
	ev->captured_len = len;
	if (bpf_perf_event_output(skb, &events, BPF_F_CURRENT_CPU, s, sizeof(struct ht_event) + len))
		count(HT_CNT_EMIT_FAILED);
	else
		count(HT_CNT_EMITTED);
}

static __always_inline void emit_whole(struct __sk_buff *skb, struct event_slot *s, __u32 off, __u32 total)
{
	__u32 seq = s->hdr.seq;
	__u8 flags = s->hdr.tcp_flags;

	emit_piece(skb, s, off, 0, total, seq, flags);
	emit_piece(skb, s, off, HT_MAX_SNAPLEN, total, seq, flags);
	emit_piece(skb, s, off, 2 * HT_MAX_SNAPLEN, total, seq, flags);
}

SEC("socket")
int httptrace_filter(struct __sk_buff *skb)
{
	struct ht_event *ev;
	struct event_slot *s;
	struct tcphdr tcp;
	__u32 cpu = bpf_get_smp_processor_id(), off = 0, ip_payload_len, tcp_hdr_len, payload_len, len;
	__u16 proto = bpf_ntohs(skb->protocol);
	__u8 first, next_header;

	if (filter_ifaces) {
		__u32 ifindex = skb->ifindex;

		if (!bpf_map_lookup_elem(&ifaces, &ifindex))
			return 0; /* an interface not asked for: not even counted */
	}
	count(HT_CNT_PACKETS);

	/* On loopback every packet is seen twice; keep the incoming copy. */
	if (skb->pkt_type == PACKET_OUTGOING && skb->ifindex == loopback_ifindex) {
		count(HT_CNT_LOOP_DUP);
		return 0;
	}
	if (proto != ETH_P_IP && proto != ETH_P_IPV6 && proto != ETH_P_8021Q && proto != ETH_P_8021AD)
		return 0;
	if (find_network_offset(skb, &off))
		return 0;

	/*
	 * Usually the kernel has taken VLAN tags off into metadata, or the network header
	 * already points past them. When it points at a tag instead, step over the tags.
	 */
	for (int i = 0; i < 2; i++) {
		__be16 inner;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if (bpf_skb_load_bytes(skb, off, &first, 1))
			return 0;
		if ((first >> 4) == 4 || (first >> 4) == 6)
			break;
		if (bpf_skb_load_bytes(skb, off + 2, &inner, sizeof(inner)))
			return 0;
		proto = bpf_ntohs(inner);
		off += 4;
	}
	if (bpf_skb_load_bytes(skb, off, &first, 1))
		return 0;

	s = bpf_map_lookup_elem(&slots, &cpu);
	if (!s)
		return 0;
	ev = &s->hdr;
	__builtin_memset(ev, 0, sizeof(*ev));

	if ((first >> 4) == 4) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)))
			return 0;
		if (ip.protocol != IPPROTO_TCP || (bpf_ntohs(ip.frag_off) & IP_FRAG_OFFSET_MASK))
			return 0;
		if (ip.ihl < 5 || bpf_ntohs(ip.tot_len) < ip.ihl * 4)
			return 0;
		ev->family = 4;
		__builtin_memcpy(ev->saddr, &ip.saddr, 4);
		__builtin_memcpy(ev->daddr, &ip.daddr, 4);
		ip_payload_len = bpf_ntohs(ip.tot_len) - ip.ihl * 4;
		off += ip.ihl * 4;
	} else if ((first >> 4) == 6) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)))
			return 0;
		ev->family = 6;
		__builtin_memcpy(ev->saddr, &ip6.saddr, 16);
		__builtin_memcpy(ev->daddr, &ip6.daddr, 16);
		ip_payload_len = bpf_ntohs(ip6.payload_len);
		next_header = ip6.nexthdr;
		off += sizeof(ip6);
		/* Skip hop-by-hop, routing and destination options headers. */
		for (int i = 0; i < IPV6_EXT_HEADERS_MAX; i++) {
			__u8 ext[2];

			if (next_header != IPPROTO_HOPOPTS && next_header != IPPROTO_ROUTING &&
			    next_header != IPPROTO_DSTOPTS)
				break;
			if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)))
				return 0;
			next_header = ext[0];
			if (ip_payload_len < (ext[1] + 1) * 8)
				return 0;
			ip_payload_len -= (ext[1] + 1) * 8;
			off += (ext[1] + 1) * 8;
		}
		if (next_header != IPPROTO_TCP)
			return 0;
	} else {
		return 0;
	}
	count(HT_CNT_TCP);

	if (bpf_skb_load_bytes(skb, off, &tcp, sizeof(tcp)))
		return 0;
	ev->sport = bpf_ntohs(tcp.source);
	ev->dport = bpf_ntohs(tcp.dest);
	if (!port_wanted(ev->sport, ev->dport) || !host_wanted(ev)) {
		count(HT_CNT_PORT_MISS);
		return 0;
	}

	tcp_hdr_len = tcp.doff * 4;
	if (tcp_hdr_len < sizeof(tcp) || ip_payload_len < tcp_hdr_len)
		return 0;
	payload_len = ip_payload_len - tcp_hdr_len;
	/* Byte 13 of the TCP header holds the flags. */
	ev->tcp_flags = ((__u8 *)&tcp)[13];

	if (filter_tls_flows) {
		struct ht_flow key = {};

		flow_dir_of(ev, &key);
		if (ev->tcp_flags & 0x07)
			bpf_map_delete_elem(&tls_flows, &key);
		else if (bpf_map_lookup_elem(&tls_flows, &key))
			return 0;
	}

	/* Pure ACKs are most packets and say nothing about HTTP; SYN/FIN/RST start and end flows. */
	if (payload_len == 0 && !(ev->tcp_flags & 0x07)) {
		count(HT_CNT_NO_PAYLOAD);
		return 0;
	}

	ev->timestamp_ns = bpf_ktime_get_ns();
	ev->ifindex = skb->ifindex;
	ev->seq = bpf_ntohl(tcp.seq);
	ev->ack = bpf_ntohl(tcp.ack_seq);
	ev->payload_len = payload_len;
	off += tcp_hdr_len;

	if (payload_len > 0 && whole_flow(ev)) {
		emit_whole(skb, s, off, payload_len);
		return 0;
	}

	len = payload_len < snaplen ? payload_len : snaplen;
	if (len > 0) {
		/* Clamp again where the verifier can see it: 1 <= len <= HT_MAX_SNAPLEN. */
		len &= HT_MAX_SNAPLEN * 2 - 1;
		if (len < 1 || len > HT_MAX_SNAPLEN)
			return 0;
		if (bpf_skb_load_bytes(skb, off, s->payload, len)) {
			/* Shorter than the IP header said (a trimmed frame): keep what the header alone says. */
			len = 0;
		}
	}
	if (len >= HTTP2_PREFACE_LEN && is_http2_preface(s->payload))
		capture_whole(ev);
	len = skip_body(ev, s->payload, len);
	ev->captured_len = len;

	if (bpf_perf_event_output(skb, &events, BPF_F_CURRENT_CPU, s, sizeof(struct ht_event) + len))
		count(HT_CNT_EMIT_FAILED);
	else
		count(HT_CNT_EMITTED);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
