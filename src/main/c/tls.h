/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The TLS half of the shim: the uprobes on OpenSSL (bpf/tls.bpf.c, its own skeleton)
 * and their perf buffer, as a flat C API for Panama FFM downcalls. Separate from the
 * socket filter's API (httptrace.h); both live in the same libhttptrace.so.
 * Functions return 0 or a count on success and a negative errno on failure.
 */
#ifndef HTTPTRACE_TLS_SHIM_H
#define HTTPTRACE_TLS_SHIM_H

#include <stddef.h>
#include <stdint.h>

struct ht_tls;

/* Indexes of ht_tls_event_layout() values. */
enum ht_tls_layout {
	HT_TLS_LAYOUT_SIZE = 0,
	HT_TLS_LAYOUT_TIMESTAMP,
	HT_TLS_LAYOUT_SSL,
	HT_TLS_LAYOUT_TGID,
	HT_TLS_LAYOUT_TID,
	HT_TLS_LAYOUT_POS,
	HT_TLS_LAYOUT_OTHER_POS,
	HT_TLS_LAYOUT_LEN,
	HT_TLS_LAYOUT_SKIPPED,
	HT_TLS_LAYOUT_KIND,
	HT_TLS_LAYOUT_DIR,
	HT_TLS_LAYOUT_FAMILY,
	HT_TLS_LAYOUT_FROM_START,
	HT_TLS_LAYOUT_LPORT,
	HT_TLS_LAYOUT_RPORT,
	HT_TLS_LAYOUT_LADDR,
	HT_TLS_LAYOUT_RADDR,
	HT_TLS_LAYOUT_COMM,
	HT_TLS_LAYOUT_SERIAL,
	HT_TLS_LAYOUT_CHUNK,
	HT_TLS_LAYOUT_COUNT,
};

/* Writes up to n layout values (see enum ht_tls_layout); returns how many exist. */
int ht_tls_event_layout(int32_t *out, int n);

/*
 * Loads the TLS program, attaches its socket tracepoints and opens its perf
 * buffer (perf_pages per CPU, a power of two). No library is probed yet: ht_tls_attach.
 */
struct ht_tls *ht_tls_open(uint32_t perf_pages, char *err, size_t errlen, int *errnum);

/*
 * Attaches the uprobes to the OpenSSL API in the ELF file at path (a libssl or an
 * executable that exports it), for every process (pid -1). Returns the mask of functions
 * probed (bits of enum ht_tls_fn), or -ENOENT when SSL_read or SSL_write is missing
 * (nothing is then left attached), or another negative errno.
 */
int ht_tls_attach(struct ht_tls *t, const char *path, char *err, size_t errlen);

/*
 * Copies pending records of every ring into buf without waiting, until it is full:
 * each is a struct ht_tls_event followed by its len bytes, padded to 8 bytes. Records
 * that did not fit stay in the rings. Returns the bytes written or a negative errno.
 */
long ht_tls_poll(struct ht_tls *t, void *buf, size_t cap);

/*
 * Bytes a poll buffer needs to take every ring's pending records in one drain: records of
 * one stream can sit in several CPUs' rings, and a drain that stops after one ring hands
 * Java positions further apart than it may hold while waiting for the rest.
 */
size_t ht_tls_poll_buffer_size(struct ht_tls *t);

/*
 * Stops copying the plaintext of one stream (process tgid, SSL object ssl, the serial its
 * records carry): its records are of no use (the other end of the connection is reported,
 * or a filter leaves it out). Its close is still reported. Returns 0 or a negative errno.
 */
int ht_tls_mute(struct ht_tls *t, uint32_t tgid, uint64_t ssl, uint32_t serial);

/* Samples the rings reported lost so far. */
uint64_t ht_tls_lost_samples(struct ht_tls *t);

/* Detaches every probe and frees everything; safe with NULL. */
void ht_tls_close(struct ht_tls *t);

#endif /* HTTPTRACE_TLS_SHIM_H */
