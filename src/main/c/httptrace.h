/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The flat C API that Java binds with Panama FFM downcalls. Every function returns
 * 0 or a count on success and a negative errno on failure; setup functions also
 * write a one-line message into the caller's err buffer.
 */
#ifndef HTTPTRACE_SHIM_H
#define HTTPTRACE_SHIM_H

#include <stddef.h>
#include <stdint.h>

struct ht_tracer;

/* Indexes of ht_stats() values. */
enum ht_stat {
	HT_STAT_PACKETS = 0,   /* packets the filter ran on (kernel) */
	HT_STAT_TCP,           /* TCP packets (kernel) */
	HT_STAT_LOOP_DUP,      /* loopback duplicates dropped (kernel) */
	HT_STAT_PORT_MISS,     /* packets on other ports or hosts dropped (kernel) */
	HT_STAT_NO_PAYLOAD,    /* pure ACKs dropped (kernel) */
	HT_STAT_EMITTED,       /* records written to the perf buffer (kernel) */
	HT_STAT_EMIT_FAILED,   /* records the kernel could not write: ring full */
	HT_STAT_LOST,          /* samples the perf buffer reported lost */
	HT_STAT_RECEIVED,      /* records copied to the caller */
	HT_STAT_OVERFLOW,      /* always 0: a full buffer leaves records in the ring (kept for the layout) */
	HT_STAT_MAX,
};

/* Indexes of ht_event_layout() values. */
enum ht_layout {
	HT_LAYOUT_SIZE = 0,
	HT_LAYOUT_TIMESTAMP,
	HT_LAYOUT_IFINDEX,
	HT_LAYOUT_PAYLOAD_LEN,
	HT_LAYOUT_SADDR,
	HT_LAYOUT_DADDR,
	HT_LAYOUT_SEQ,
	HT_LAYOUT_ACK,
	HT_LAYOUT_SPORT,
	HT_LAYOUT_DPORT,
	HT_LAYOUT_CAPTURED_LEN,
	HT_LAYOUT_FAMILY,
	HT_LAYOUT_TCP_FLAGS,
	HT_LAYOUT_MAX_SNAPLEN,
	HT_LAYOUT_COUNT,
};

/* Writes up to n layout values (see enum ht_layout); returns how many exist. */
int ht_event_layout(int32_t *out, int n);

/*
 * Loads the socket filter with its settings and opens the perf buffer
 * (perf_pages pages per CPU, a power of two). ports may be NULL when nports is 0.
 */
struct ht_tracer *ht_open(uint32_t snaplen, const uint16_t *ports, int nports,
			  uint32_t perf_pages, char *err, size_t errlen, int *errnum);

/*
 * Leaves the connection between a:aport and b:bport (family 4 or 6, addresses in network
 * byte order, 4 or 16 bytes) to the TLS probes: its packets are no longer copied, but for
 * SYN, FIN and RST. Until its next SYN in each direction. Returns 0 or a negative errno.
 */
int ht_skip_connection(struct ht_tracer *ht, int family, const uint8_t *a, int aport,
		       const uint8_t *b, int bport);

/*
 * Copies the segments of the connection between a:aport and b:bport (as for ht_skip_connection)
 * whole from now on, not a --snaplen prefix: user space reads it as HTTP/2, whose header blocks
 * it needs every byte of. Until its next SYN or RST in each direction. Returns 0 or a negative errno.
 */
int ht_capture_whole(struct ht_tracer *ht, int family, const uint8_t *a, int aport,
		     const uint8_t *b, int bport);

/*
 * Adds a host to the kernel filter (before ht_attach): family 4 or 6, the address in
 * network byte order (4 or 16 bytes), and how many leading bits must match. Once a host
 * is added, only segments with an address in one of the added prefixes are captured.
 */
int ht_add_host(struct ht_tracer *ht, int family, const uint8_t *addr, int prefix_bits,
		char *err, size_t errlen);

/* Opens a raw AF_PACKET socket on ifname ("" = every interface) and attaches the filter. */
/* ifname: one interface (the socket is bound to it), several separated by commas (up to
 * HT_MAX_IFACES: bound to none, the filter keeps theirs), or "" for all. */
int ht_attach(struct ht_tracer *ht, const char *ifname, char *err, size_t errlen);

/*
 * Waits up to timeout_ms for records, then copies pending records into buf until it is
 * full: each is a struct ht_event followed by its payload, padded to 8 bytes. Records
 * that did not fit stay in the rings for the next call. Returns the bytes written, 0 on
 * timeout or signal, or a negative errno. One thread at a time.
 */
long ht_poll(struct ht_tracer *ht, void *buf, size_t cap, int timeout_ms);

/* A good size for a poll buffer: one ring. It must hold at least one largest record. */
size_t ht_poll_buffer_size(struct ht_tracer *ht);

/*
 * Raises the scheduling priority of the calling thread (nice -10) when allowed: the thread
 * that drains the rings should run as soon as a ring passes its watermark, even on cores
 * the traced server keeps busy. Returns 0 or a negative errno (then nothing changed).
 */
int ht_raise_thread_priority(void);

/* Samples the rings reported lost so far (cheap: for the polling thread, after each poll). */
uint64_t ht_lost_samples(struct ht_tracer *ht);

/* CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns: adds to ht_event.timestamp_ns. */
int64_t ht_realtime_offset_ns(void);

/* Writes up to n counters (see enum ht_stat); returns how many exist. */
int ht_stats(struct ht_tracer *ht, uint64_t *out, int n);

/*
 * Runs the filter once on a frame with BPF_PROG_TEST_RUN (the kernel's own test
 * hook, no socket needed) and copies what it emitted into buf like ht_poll.
 */
long ht_test_run(struct ht_tracer *ht, const void *frame, uint32_t len, void *buf, size_t cap);

/* Detaches and frees everything; safe with NULL. */
void ht_close(struct ht_tracer *ht);

#endif /* HTTPTRACE_SHIM_H */
