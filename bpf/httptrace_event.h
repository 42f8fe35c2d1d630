/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The one definition of the record the socket filter emits, shared by the BPF
 * program (bpf/httptrace.bpf.c) and the shim (src/main/c/httptrace.c). Java reads
 * the same bytes; it checks these offsets at start-up through ht_event_layout().
 */
#ifndef HTTPTRACE_EVENT_H
#define HTTPTRACE_EVENT_H

/* Largest payload prefix one record can carry; --snaplen must not exceed it. */
#define HT_MAX_SNAPLEN 32768
/* Default payload prefix: whole heads and most chunk-size lines of a segment. */
#define HT_DEFAULT_SNAPLEN 8192
/* Most ports the kernel filter can be given. */
#define HT_MAX_PORTS 64
/* Most host addresses / CIDR prefixes the kernel filter can be given. */
#define HT_MAX_HOSTS 64
/* Most interfaces given with several -i (one -i binds the socket instead). */
#define HT_MAX_IFACES 16

/* Kernel-side counters (per-CPU array map "counters"), indexes. */
enum ht_counter {
	HT_CNT_PACKETS = 0,  /* every packet the filter ran on */
	HT_CNT_TCP,          /* IPv4/IPv6 TCP packets */
	HT_CNT_LOOP_DUP,     /* outgoing copies on loopback, dropped */
	HT_CNT_PORT_MISS,    /* TCP packets on ports or hosts not asked for, dropped */
	HT_CNT_NO_PAYLOAD,   /* TCP packets without payload nor SYN/FIN/RST, dropped */
	HT_CNT_EMITTED,      /* records written to the perf buffer */
	HT_CNT_EMIT_FAILED,  /* bpf_perf_event_output failed (ring full) */
	HT_CNT_MAX,
};

struct ht_event {
	__u64 timestamp_ns;  /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 ifindex;       /* interface the packet crossed */
	__u32 payload_len;   /* TCP payload length on the wire */
	__u8 saddr[16];      /* IPv4 in the first 4 bytes, or IPv6 */
	__u8 daddr[16];
	__u32 seq;           /* host byte order */
	__u32 ack;
	__u16 sport;         /* host byte order */
	__u16 dport;
	__u16 captured_len;  /* payload bytes that follow this header */
	__u8 family;         /* 4 or 6 */
	__u8 tcp_flags;      /* FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, ... */
	/* captured_len bytes of payload follow the header */
};

/*
 * Key of the LPM trie of hosts asked for: the family byte, then the address (IPv4 in the
 * first 4 bytes), so one trie holds both families. prefixlen counts the family's 8 bits.
 */
struct ht_host_key {
	__u32 prefixlen;
	__u8 family;         /* 4 or 6 */
	__u8 addr[16];
};

/*
 * One direction of a connection, as its packets carry it (addresses as in struct ht_event,
 * ports in host byte order). Key of the maps of body ends and of connections left to the
 * TLS probes.
 */
struct ht_flow {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u32 family;
};

#endif /* HTTPTRACE_EVENT_H */
