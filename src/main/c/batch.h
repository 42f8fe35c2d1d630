/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the two perf buffers of the shim (packets, TLS) share: opening a perf buffer that
 * wakes its reader by bytes, and draining its per-CPU rings into a buffer the caller owns,
 * a batch at a time, without ever dropping a record for want of room. Internal to the shim.
 */
#ifndef HTTPTRACE_BATCH_H
#define HTTPTRACE_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>

/*
 * How the permission messages end (exit 3): what live tracing needs, named in full. CAP_PERFMON
 * for the perf buffers (while kernel.perf_event_paranoid is above 0) and --tls's uprobes.
 */
#define HT_NEEDS "run as root, or with CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and CAP_NET_RAW"

struct batch_reader {
	struct perf_buffer *pb;
	size_t ring_bytes;
	/* Bytes of the record at data (size bytes from the ring); 0 for a malformed one. */
	size_t (*record_len)(const void *data, size_t size);
	/* Where records are copied during one drain. */
	unsigned char *out;
	size_t out_cap;
	size_t out_len;
	int out_full;
	/* The ring a drain starts with: the one where the last drain stopped. */
	size_t next_ring;
	uint64_t lost;
	uint64_t received;
};

/*
 * Opens the perf buffer of the BPF_MAP_TYPE_PERF_EVENT_ARRAY map_fd with perf_pages pages
 * per CPU, waking the reader when a ring holds ring_bytes / wake_divisor bytes (never per
 * sample). Returns 0, or -errno with nothing left open.
 */
int batch_reader_open(struct batch_reader *r, int map_fd, uint32_t perf_pages, unsigned int wake_divisor,
		      size_t (*record_len)(const void *data, size_t size));

/*
 * Copies pending records of every ring into buf until it is full, each padded to 8 bytes.
 * Records that do not fit stay in their ring (libbpf does not advance past a record whose
 * callback says stop), and the next drain starts with that ring. Returns the bytes written
 * or a negative errno.
 */
long batch_reader_drain(struct batch_reader *r, void *buf, size_t cap);

void batch_reader_close(struct batch_reader *r);

/* Formats a one-line message into err (the shim's setup functions' error channel). */
void set_err(char *err, size_t errlen, const char *fmt, ...);

#endif /* HTTPTRACE_BATCH_H */
