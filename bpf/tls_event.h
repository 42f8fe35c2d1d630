/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The record the TLS uprobes emit, shared by bpf/tls.bpf.c and src/main/c/tls.c.
 * Java reads the same bytes and checks these offsets at start-up (ht_tls_event_layout).
 */
#ifndef HTTPTRACE_TLS_EVENT_H
#define HTTPTRACE_TLS_EVENT_H

/* Plaintext bytes one record carries at most; a larger SSL call is split into chunks. */
#define HT_TLS_CHUNK 16384
/* Chunks copied per call at most; the rest of a larger call is declared skipped. */
#define HT_TLS_MAX_CHUNKS 8

/* What a record says. */
enum ht_tls_kind {
	HT_TLS_DATA = 0,   /* plaintext bytes of one direction */
	HT_TLS_CLOSE = 1,  /* SSL_free: the stream ends in both directions */
	HT_TLS_PROCESS = 2, /* a process's first SSL call: data is the path of its executable,
	                     * NUL-terminated names from the file up to the root */
};

/* Direction, seen from the process that made the call. */
enum ht_tls_dir {
	HT_TLS_WRITE = 0,      /* the process sent the bytes (SSL_write*) */
	HT_TLS_READ = 1,       /* the process received them (SSL_read*) */
	HT_TLS_HANDSHAKE = 2,  /* SSL_do_handshake: attribution only, no data */
};

/* Bits of the function mask ht_tls_attach returns, and the cookie of each probe. */
enum ht_tls_fn {
	HT_TLS_FN_READ = 0,
	HT_TLS_FN_WRITE,
	HT_TLS_FN_READ_EX,
	HT_TLS_FN_WRITE_EX,
	HT_TLS_FN_HANDSHAKE,
	HT_TLS_FN_FREE,
	HT_TLS_FN_CLEAR,
	HT_TLS_FN_COUNT,
};

/* A TLS stream: the SSL object of one process. Key of the BPF maps user space writes to. */
struct ht_tls_stream_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

struct ht_tls_event {
	__u64 timestamp_ns;  /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, at the call's return */
	__u64 ssl;           /* the SSL * of the call: with tgid, names the TLS stream */
	__u32 tgid;          /* process id */
	__u32 tid;           /* thread id */
	__u32 pos;           /* stream position of data[0] in this direction (mod 2^32) */
	__u32 other_pos;     /* the opposite direction's position at the call: what was received/sent */
	__u32 len;           /* bytes of data that follow this header */
	__u32 skipped;       /* bytes of the call after data[] that were not copied */
	__u8 kind;           /* enum ht_tls_kind */
	__u8 dir;            /* enum ht_tls_dir */
	__u8 family;         /* 4 or 6 when the socket is known, 0 when not */
	__u8 from_start;     /* the stream was seen from its handshake: position 0 is its first byte */
	__u16 lport;         /* local port, host byte order (0 when unknown) */
	__u16 rport;         /* remote port */
	__u8 laddr[16];      /* local address (IPv4 in the first 4 bytes) */
	__u8 raddr[16];      /* remote address */
	char comm[16];       /* thread name */
	__u32 serial;        /* the stream's random number: the key alone is reused (SSL objects are freed and reallocated) */
	/* len bytes of plaintext follow (the header is padded to 8 bytes) */
};

#endif /* HTTPTRACE_TLS_EVENT_H */
