// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Draining perf buffers into caller-owned batches: see batch.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include "batch.h"

void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list args;

	if (!err || errlen == 0)
		return;
	va_start(args, fmt);
	vsnprintf(err, errlen, fmt, args);
	va_end(args);
}

/* Copies one record, or says the buffer is full (the record stays in the ring). */
static enum bpf_perf_event_ret copy_record(struct batch_reader *r, const void *data, size_t size)
{
	size_t len = r->record_len(data, size), padded;

	if (len == 0 || len > size)
		return LIBBPF_PERF_EVENT_CONT;
	padded = (len + 7) & ~(size_t)7;
	if (!r->out || r->out_len + padded > r->out_cap) {
		r->out_full = 1;
		return LIBBPF_PERF_EVENT_DONE;
	}
	memcpy(r->out + r->out_len, data, len);
	memset(r->out + r->out_len + len, 0, padded - len);
	r->out_len += padded;
	r->received++;
	return LIBBPF_PERF_EVENT_CONT;
}

/* Raw perf records: samples carry a record, LOST records count what the ring dropped. */
static enum bpf_perf_event_ret on_perf_record(void *ctx, int cpu, struct perf_event_header *hdr)
{
	struct batch_reader *r = ctx;

	(void)cpu;
	if (hdr->type == PERF_RECORD_SAMPLE) {
		struct {
			struct perf_event_header hdr;
			uint32_t size;
			unsigned char data[];
		} *sample = (void *)hdr;

		return copy_record(r, sample->data, sample->size);
	} else if (hdr->type == PERF_RECORD_LOST) {
		struct {
			struct perf_event_header hdr;
			uint64_t id;
			uint64_t lost;
		} *lost = (void *)hdr;

		r->lost += lost->lost;
	}
	return LIBBPF_PERF_EVENT_CONT;
}

int batch_reader_open(struct batch_reader *r, int map_fd, uint32_t perf_pages, unsigned int wake_divisor,
		      size_t (*record_len)(const void *data, size_t size))
{
	struct perf_event_attr attr = {0};

	memset(r, 0, sizeof(*r));
	r->record_len = record_len;
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_BPF_OUTPUT;
	attr.sample_type = PERF_SAMPLE_RAW;
	attr.sample_period = 1;
	/*
	 * Wake the reader by bytes, not per sample: a wake-up per packet costs the traced
	 * server most of its throughput. A quiet ring is drained by the reader's timeout.
	 */
	attr.watermark = 1;
	r->ring_bytes = (size_t)perf_pages * (size_t)sysconf(_SC_PAGESIZE);
	attr.wakeup_watermark = r->ring_bytes / wake_divisor;
	r->pb = perf_buffer__new_raw(map_fd, perf_pages, &attr, on_perf_record, r, NULL);
	if (!r->pb)
		return -errno;
	return 0;
}

long batch_reader_drain(struct batch_reader *r, void *buf, size_t cap)
{
	size_t rings = perf_buffer__buffer_cnt(r->pb);
	long ret = 0;

	r->out = buf;
	r->out_cap = cap;
	r->out_len = 0;
	r->out_full = 0;
	for (size_t i = 0; i < rings; i++) {
		size_t ring = (r->next_ring + i) % rings;

		ret = perf_buffer__consume_buffer(r->pb, ring);
		if (ret < 0)
			break;
		if (r->out_full) {
			r->next_ring = ring;
			break;
		}
	}
	r->out = NULL;
	return ret < 0 ? ret : (long)r->out_len;
}

void batch_reader_close(struct batch_reader *r)
{
	perf_buffer__free(r->pb);
	r->pb = NULL;
}
