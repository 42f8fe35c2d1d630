// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Loader of the TLS uprobes (bpf/tls.bpf.c) over its bpftool skeleton; the API is in
 * tls.h. Kept apart from the socket filter's loader (httptrace.c): they share only the
 * library they are linked into (and libbpf's print callback, which httptrace.c sets).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "tls_event.h"
#include "tls.skel.h"
#include "tls.h"
#include "batch.h"

/* Links per library: entry and return of four functions and the handshake; SSL_free's and SSL_clear's entries. */
#define LINKS_PER_LIB 12
#define MAX_LINKS 4096

struct ht_tls {
	struct tls_bpf *skel;
	struct batch_reader rb;
	struct bpf_link *links[MAX_LINKS];
	int nlinks;
};

int ht_tls_event_layout(int32_t *out, int n)
{
	int32_t layout[HT_TLS_LAYOUT_COUNT] = {
		[HT_TLS_LAYOUT_SIZE] = sizeof(struct ht_tls_event),
		[HT_TLS_LAYOUT_TIMESTAMP] = offsetof(struct ht_tls_event, timestamp_ns),
		[HT_TLS_LAYOUT_SSL] = offsetof(struct ht_tls_event, ssl),
		[HT_TLS_LAYOUT_TGID] = offsetof(struct ht_tls_event, tgid),
		[HT_TLS_LAYOUT_TID] = offsetof(struct ht_tls_event, tid),
		[HT_TLS_LAYOUT_POS] = offsetof(struct ht_tls_event, pos),
		[HT_TLS_LAYOUT_OTHER_POS] = offsetof(struct ht_tls_event, other_pos),
		[HT_TLS_LAYOUT_LEN] = offsetof(struct ht_tls_event, len),
		[HT_TLS_LAYOUT_SKIPPED] = offsetof(struct ht_tls_event, skipped),
		[HT_TLS_LAYOUT_KIND] = offsetof(struct ht_tls_event, kind),
		[HT_TLS_LAYOUT_DIR] = offsetof(struct ht_tls_event, dir),
		[HT_TLS_LAYOUT_FAMILY] = offsetof(struct ht_tls_event, family),
		[HT_TLS_LAYOUT_FROM_START] = offsetof(struct ht_tls_event, from_start),
		[HT_TLS_LAYOUT_LPORT] = offsetof(struct ht_tls_event, lport),
		[HT_TLS_LAYOUT_RPORT] = offsetof(struct ht_tls_event, rport),
		[HT_TLS_LAYOUT_LADDR] = offsetof(struct ht_tls_event, laddr),
		[HT_TLS_LAYOUT_RADDR] = offsetof(struct ht_tls_event, raddr),
		[HT_TLS_LAYOUT_COMM] = offsetof(struct ht_tls_event, comm),
		[HT_TLS_LAYOUT_SERIAL] = offsetof(struct ht_tls_event, serial),
		[HT_TLS_LAYOUT_CHUNK] = HT_TLS_CHUNK,
	};

	for (int i = 0; i < n && i < HT_TLS_LAYOUT_COUNT; i++)
		out[i] = layout[i];
	return HT_TLS_LAYOUT_COUNT;
}

/* A record's length: the header and the plaintext it says it carries. */
static size_t tls_event_len(const void *data, size_t size)
{
	const struct ht_tls_event *ev = data;

	if (size < sizeof(*ev))
		return 0;
	return sizeof(*ev) + ev->len;
}

struct ht_tls *ht_tls_open(uint32_t perf_pages, char *err, size_t errlen, int *errnum)
{
	struct ht_tls *t;
	int ret;

	*errnum = 0;
	if (perf_pages == 0 || (perf_pages & (perf_pages - 1))) {
		set_err(err, errlen, "perf pages must be a power of two");
		*errnum = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		*errnum = ENOMEM;
		return NULL;
	}
	t->skel = tls_bpf__open_and_load();
	if (!t->skel) {
		*errnum = errno;
		set_err(err, errlen, "--tls: cannot load the TLS probes (%s)%s", strerror(errno),
			errno == EPERM ? ": uprobes need CAP_PERFMON and CAP_BPF; " HT_NEEDS : "");
		goto fail;
	}
	/* Only these two are attached here: the uprobes wait for a library (ht_tls_attach). */
	t->links[t->nlinks] = bpf_program__attach(t->skel->progs.sock_send);
	if (!t->links[t->nlinks])
		goto attach_fail;
	t->nlinks++;
	t->links[t->nlinks] = bpf_program__attach(t->skel->progs.sock_recv);
	if (!t->links[t->nlinks])
		goto attach_fail;
	t->nlinks++;

	/* Woken at half a ring, never per sample: the reader polls without waiting anyway. */
	ret = batch_reader_open(&t->rb, bpf_map__fd(t->skel->maps.tls_events), perf_pages, 2, tls_event_len);
	if (ret) {
		*errnum = -ret;
		set_err(err, errlen, "cannot open the TLS perf buffer: %s", strerror(-ret));
		goto fail;
	}
	return t;
attach_fail:
	*errnum = errno;
	set_err(err, errlen, "cannot attach to the sock_send_length/sock_recv_length tracepoints (kernel 6.3 or later): %s", strerror(errno));
fail:
	ht_tls_close(t);
	return NULL;
}

/* One uprobe (or uretprobe) on func in path; NULL and errno when it cannot be placed. */
static struct bpf_link *probe(struct bpf_program *prog, const char *path, const char *func, int ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = func, .retprobe = ret);

	return bpf_program__attach_uprobe_opts(prog, -1, path, 0, &opts);
}

int ht_tls_attach(struct ht_tls *t, const char *path, char *err, size_t errlen)
{
	struct tls_bpf *s = t->skel;
	const struct {
		const char *name;
		struct bpf_program *enter;
		struct bpf_program *ret;
	} fns[HT_TLS_FN_COUNT] = {
		[HT_TLS_FN_READ] = { "SSL_read", s->progs.ssl_read_enter, s->progs.ssl_ret },
		[HT_TLS_FN_WRITE] = { "SSL_write", s->progs.ssl_write_enter, s->progs.ssl_ret },
		[HT_TLS_FN_READ_EX] = { "SSL_read_ex", s->progs.ssl_read_ex_enter, s->progs.ssl_ret },
		[HT_TLS_FN_WRITE_EX] = { "SSL_write_ex", s->progs.ssl_write_ex_enter, s->progs.ssl_ret },
		[HT_TLS_FN_HANDSHAKE] = { "SSL_do_handshake", s->progs.ssl_handshake_enter, s->progs.ssl_ret },
		[HT_TLS_FN_FREE] = { "SSL_free", s->progs.ssl_free_enter, NULL },
		[HT_TLS_FN_CLEAR] = { "SSL_clear", s->progs.ssl_clear_enter, NULL },
	};
	int first = t->nlinks, mask = 0, ret;

	if (t->nlinks + LINKS_PER_LIB > MAX_LINKS) {
		set_err(err, errlen, "too many libraries probed (at most %d)", MAX_LINKS / LINKS_PER_LIB);
		return -ENOSPC;
	}
	for (int i = 0; i < HT_TLS_FN_COUNT; i++) {
		struct bpf_link *enter, *exit = NULL;

		enter = probe(fns[i].enter, path, fns[i].name, 0);
		if (!enter) {
			ret = -errno;
			if ((ret == -ENOENT || ret == -ESRCH) && i > HT_TLS_FN_WRITE)
				continue; /* an optional function not exported here */
			if (ret == -ENOENT || ret == -ESRCH) {
				set_err(err, errlen, "%s does not export SSL_read and SSL_write", path);
				goto undo;
			}
			set_err(err, errlen, "cannot probe %s in %s: %s", fns[i].name, path, strerror(-ret));
			goto undo;
		}
		t->links[t->nlinks++] = enter;
		if (fns[i].ret) {
			exit = probe(fns[i].ret, path, fns[i].name, 1);
			if (!exit) {
				ret = -errno;
				set_err(err, errlen, "cannot probe the return of %s in %s: %s",
					fns[i].name, path, strerror(-ret));
				goto undo;
			}
			t->links[t->nlinks++] = exit;
		}
		mask |= 1 << i;
	}
	if (!(mask & (1 << HT_TLS_FN_READ)) || !(mask & (1 << HT_TLS_FN_WRITE))) {
		ret = -ENOENT;
		set_err(err, errlen, "%s does not export SSL_read and SSL_write", path);
		goto undo;
	}
	return mask;
undo:
	while (t->nlinks > first)
		bpf_link__destroy(t->links[--t->nlinks]);
	return ret;
}

size_t ht_tls_poll_buffer_size(struct ht_tls *t)
{
	return perf_buffer__buffer_cnt(t->rb.pb) * t->rb.ring_bytes;
}

long ht_tls_poll(struct ht_tls *t, void *buf, size_t cap)
{
	return batch_reader_drain(&t->rb, buf, cap);
}

int ht_tls_mute(struct ht_tls *t, uint32_t tgid, uint64_t ssl, uint32_t serial)
{
	struct ht_tls_stream_key key = { .ssl = ssl, .tgid = tgid };

	return bpf_map__update_elem(t->skel->maps.muted, &key, sizeof(key), &serial, sizeof(serial), BPF_ANY) ? -errno : 0;
}

uint64_t ht_tls_lost_samples(struct ht_tls *t)
{
	return t->rb.lost;
}

void ht_tls_close(struct ht_tls *t)
{
	if (!t)
		return;
	while (t->nlinks > 0)
		bpf_link__destroy(t->links[--t->nlinks]);
	batch_reader_close(&t->rb);
	tls_bpf__destroy(t->skel);
	free(t);
}
