// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The shim Java calls through Panama FFM: loads the socket filter from the embedded
 * skeleton, attaches it to a raw AF_PACKET socket, and drains the perf buffer in
 * batches into a buffer Java owns (one downcall per batch, never an upcall).
 */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "httptrace_event.h"
#include "httptrace.skel.h"
#include "httptrace.h"
#include "batch.h"

struct ht_tracer {
	struct httptrace_bpf *skel;
	struct batch_reader rb;
	int sock;
};

/* The tail of what libbpf printed, so a verifier rejection can be shown to the user. */
static char libbpf_log[8192];
static size_t libbpf_log_len;

static int log_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char *text;
	size_t n, keep;
	int len;

	if (level == LIBBPF_DEBUG)
		return 0;
	/* One call can carry the whole verifier log: format it fully, keep its tail. */
	len = vasprintf(&text, fmt, args);
	if (len <= 0)
		return 0;
	n = (size_t)len;
	if (n >= sizeof(libbpf_log)) {
		memcpy(libbpf_log, text + n - (sizeof(libbpf_log) - 1), sizeof(libbpf_log) - 1);
		libbpf_log_len = sizeof(libbpf_log) - 1;
	} else {
		if (libbpf_log_len + n >= sizeof(libbpf_log)) {
			keep = sizeof(libbpf_log) - 1 - n;
			memmove(libbpf_log, libbpf_log + libbpf_log_len - keep, keep);
			libbpf_log_len = keep;
		}
		memcpy(libbpf_log + libbpf_log_len, text, n);
		libbpf_log_len += n;
	}
	libbpf_log[libbpf_log_len] = '\0';
	free(text);
	return 0;
}

/*
 * Copies the last max_lines lines of the verifier's log (the part of libbpf's output
 * before "-- END PROG LOAD LOG --", or all of it when there is none) into dst.
 */
static void verifier_tail(char *dst, size_t dstlen, int max_lines)
{
	const char *marker = strstr(libbpf_log, "-- END PROG LOAD LOG --");
	size_t end = marker ? (size_t)(marker - libbpf_log) : libbpf_log_len, start;
	int lines = 0;

	while (end > 0 && libbpf_log[end - 1] == '\n')
		end--;
	start = end;
	while (start > 0) {
		if (libbpf_log[start - 1] == '\n' && ++lines == max_lines)
			break;
		start--;
	}
	snprintf(dst, dstlen, "%.*s", (int)(end - start), libbpf_log + start);
}

int ht_event_layout(int32_t *out, int n)
{
	int32_t layout[HT_LAYOUT_COUNT] = {
		[HT_LAYOUT_SIZE] = sizeof(struct ht_event),
		[HT_LAYOUT_TIMESTAMP] = offsetof(struct ht_event, timestamp_ns),
		[HT_LAYOUT_IFINDEX] = offsetof(struct ht_event, ifindex),
		[HT_LAYOUT_PAYLOAD_LEN] = offsetof(struct ht_event, payload_len),
		[HT_LAYOUT_SADDR] = offsetof(struct ht_event, saddr),
		[HT_LAYOUT_DADDR] = offsetof(struct ht_event, daddr),
		[HT_LAYOUT_SEQ] = offsetof(struct ht_event, seq),
		[HT_LAYOUT_ACK] = offsetof(struct ht_event, ack),
		[HT_LAYOUT_SPORT] = offsetof(struct ht_event, sport),
		[HT_LAYOUT_DPORT] = offsetof(struct ht_event, dport),
		[HT_LAYOUT_CAPTURED_LEN] = offsetof(struct ht_event, captured_len),
		[HT_LAYOUT_FAMILY] = offsetof(struct ht_event, family),
		[HT_LAYOUT_TCP_FLAGS] = offsetof(struct ht_event, tcp_flags),
		[HT_LAYOUT_MAX_SNAPLEN] = HT_MAX_SNAPLEN,
	};

	for (int i = 0; i < n && i < HT_LAYOUT_COUNT; i++)
		out[i] = layout[i];
	return HT_LAYOUT_COUNT;
}

/* A record's length: the header and the payload it says it carries. */
static size_t event_len(const void *data, size_t size)
{
	const struct ht_event *ev = data;

	if (size < sizeof(*ev))
		return 0;
	return sizeof(*ev) + ev->captured_len;
}

struct ht_tracer *ht_open(uint32_t snaplen, const uint16_t *ports, int nports,
			  uint32_t perf_pages, char *err, size_t errlen, int *errnum)
{
	struct ht_tracer *ht;
	unsigned int lo;
	int ret;

	libbpf_set_print(log_libbpf);
	libbpf_log_len = 0;
	libbpf_log[0] = '\0';
	*errnum = 0;

	if (snaplen > HT_MAX_SNAPLEN || nports < 0 || nports > HT_MAX_PORTS ||
	    perf_pages == 0 || (perf_pages & (perf_pages - 1))) {
		set_err(err, errlen, "invalid settings: snaplen must be <= %d, at most %d ports, "
			"perf pages a power of two", HT_MAX_SNAPLEN, HT_MAX_PORTS);
		*errnum = EINVAL;
		return NULL;
	}
	ht = calloc(1, sizeof(*ht));
	if (!ht) {
		*errnum = ENOMEM;
		return NULL;
	}
	ht->sock = -1;

	ht->skel = httptrace_bpf__open();
	if (!ht->skel) {
		*errnum = errno;
		set_err(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	lo = if_nametoindex("lo");
	ht->skel->rodata->snaplen = snaplen;
	ht->skel->rodata->loopback_ifindex = lo ? lo : 1;
	ht->skel->rodata->filter_ports = nports > 0;
	ret = bpf_map__set_max_entries(ht->skel->maps.slots, libbpf_num_possible_cpus());
	if (ret) {
		*errnum = -ret;
		set_err(err, errlen, "cannot size the record slots: %s", strerror(-ret));
		goto fail;
	}

	ret = httptrace_bpf__load(ht->skel);
	if (ret) {
		char log[2048];

		*errnum = -ret;
		verifier_tail(log, sizeof(log), 6);
		if (-ret == EPERM)
			set_err(err, errlen, "loading the BPF program was refused (%s): " HT_NEEDS,
				strerror(-ret));
		else
			set_err(err, errlen, "the kernel refused the BPF program (errno %d, %s); "
				"the verifier's last lines:\n%s", -ret, strerror(-ret), log);
		goto fail;
	}

	for (int i = 0; i < nports; i++) {
		uint8_t yes = 1;

		ret = bpf_map__update_elem(ht->skel->maps.ports, &ports[i], sizeof(ports[i]),
					   &yes, sizeof(yes), BPF_ANY);
		if (ret) {
			*errnum = -ret;
			set_err(err, errlen, "cannot set port %u: %s", ports[i], strerror(-ret));
			goto fail;
		}
	}

	/* Woken when a quarter of a ring is used: the drain thread keeps the rings that empty. */
	ret = batch_reader_open(&ht->rb, bpf_map__fd(ht->skel->maps.events), perf_pages, 4, event_len);
	if (ret) {
		*errnum = -ret;
		set_err(err, errlen, "cannot open the perf buffer (%s)%s", strerror(-ret),
			-ret == EPERM || -ret == EACCES ? ": it needs CAP_PERFMON while "
			"kernel.perf_event_paranoid is above 0; " HT_NEEDS : "");
		goto fail;
	}
	return ht;
fail:
	ht_close(ht);
	return NULL;
}

int ht_add_host(struct ht_tracer *ht, int family, const uint8_t *addr, int prefix_bits,
		char *err, size_t errlen)
{
	struct ht_host_key key = {0};
	int max_bits = family == 4 ? 32 : 128, ret;
	uint8_t yes = 1;

	if ((family != 4 && family != 6) || prefix_bits < 0 || prefix_bits > max_bits) {
		set_err(err, errlen, "invalid host prefix: family %d, %d bits", family, prefix_bits);
		return -EINVAL;
	}
	key.prefixlen = 8 + prefix_bits;
	key.family = family;
	memcpy(key.addr, addr, max_bits / 8);
	ret = bpf_map__update_elem(ht->skel->maps.hosts, &key, sizeof(key), &yes, sizeof(yes), BPF_ANY);
	if (ret) {
		set_err(err, errlen, "cannot add a host to the filter: %s", strerror(-ret));
		return ret;
	}
	ht->skel->bss->filter_hosts = 1;
	return 0;
}

/* Puts both directions of the connection a:aport <-> b:bport into a map keyed by struct ht_flow. */
static int add_connection(struct bpf_map *map, int family, const uint8_t *a, int aport,
			  const uint8_t *b, int bport)
{
	struct ht_flow there = { .sport = aport, .dport = bport, .family = family };
	struct ht_flow back = { .sport = bport, .dport = aport, .family = family };
	int len = family == 4 ? 4 : 16;
	uint8_t yes = 1;

	if (family != 4 && family != 6)
		return -EINVAL;
	memcpy(there.saddr, a, len);
	memcpy(there.daddr, b, len);
	memcpy(back.saddr, b, len);
	memcpy(back.daddr, a, len);
	if (bpf_map__update_elem(map, &there, sizeof(there), &yes, sizeof(yes), BPF_ANY) ||
	    bpf_map__update_elem(map, &back, sizeof(back), &yes, sizeof(yes), BPF_ANY))
		return -errno;
	return 0;
}

int ht_skip_connection(struct ht_tracer *ht, int family, const uint8_t *a, int aport,
		       const uint8_t *b, int bport)
{
	int ret = add_connection(ht->skel->maps.tls_flows, family, a, aport, b, bport);

	if (ret == 0)
		ht->skel->bss->filter_tls_flows = 1;
	return ret;
}

int ht_capture_whole(struct ht_tracer *ht, int family, const uint8_t *a, int aport,
		     const uint8_t *b, int bport)
{
	return add_connection(ht->skel->maps.whole_flows, family, a, aport, b, bport);
}

int ht_attach(struct ht_tracer *ht, const char *ifname, char *err, size_t errlen)
{
	struct sockaddr_ll addr = {0};
	int prog_fd = bpf_program__fd(ht->skel->progs.httptrace_filter);
	unsigned int ifindex = 0;
	int ret;

	if (ifname && strchr(ifname, ',')) {
		/* Several interfaces: bound to none, the filter keeps only theirs. */
		char names[HT_MAX_IFACES * (IF_NAMESIZE + 1)];
		char *save = NULL;
		int n = 0;

		if (strlen(ifname) >= sizeof(names)) {
			set_err(err, errlen, "at most %d interfaces", HT_MAX_IFACES);
			return -EINVAL;
		}
		strcpy(names, ifname);
		for (char *name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
			__u32 index = if_nametoindex(name);
			__u8 yes = 1;

			if (!index) {
				set_err(err, errlen, "no interface named '%s'", name);
				return -ENODEV;
			}
			if (++n > HT_MAX_IFACES) {
				set_err(err, errlen, "at most %d interfaces", HT_MAX_IFACES);
				return -EINVAL;
			}
			ret = bpf_map__update_elem(ht->skel->maps.ifaces, &index, sizeof(index), &yes, sizeof(yes), BPF_ANY);
			if (ret) {
				set_err(err, errlen, "cannot set interface %s: %s", name, strerror(-ret));
				return ret;
			}
		}
		ht->skel->bss->filter_ifaces = 1;
	} else if (ifname && ifname[0]) {
		ifindex = if_nametoindex(ifname);
		if (!ifindex) {
			set_err(err, errlen, "no interface named '%s'", ifname);
			return -ENODEV;
		}
	}
	/* Protocol 0 receives nothing until bind(): the filter is in place before traffic. */
	ht->sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (ht->sock < 0) {
		ret = -errno;
		set_err(err, errlen, "cannot open a raw packet socket (%s)%s", strerror(errno),
			errno == EPERM || errno == EACCES ? ": it needs CAP_NET_RAW; " HT_NEEDS : "");
		return ret;
	}
	if (setsockopt(ht->sock, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd))) {
		ret = -errno;
		set_err(err, errlen, "cannot attach the socket filter: %s", strerror(errno));
		return ret;
	}
	/*
	 * On loopback every packet passes the tap twice, going out and coming in, and the filter
	 * keeps only the incoming copy. Traced on lo alone, have the kernel not even hand us the
	 * outgoing one: it spares a clone of every packet sent (kernel 4.20+; older kernels
	 * refuse the option, and the filter still drops the copy).
	 */
	if (ifindex && ifindex == ht->skel->rodata->loopback_ifindex) {
		int one = 1;

		(void)setsockopt(ht->sock, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	}
	addr.sll_family = AF_PACKET;
	addr.sll_protocol = htons(ETH_P_ALL);
	addr.sll_ifindex = ifindex;
	if (bind(ht->sock, (struct sockaddr *)&addr, sizeof(addr))) {
		ret = -errno;
		set_err(err, errlen, "cannot bind the packet socket to '%s': %s",
			ifindex ? ifname : "all interfaces", strerror(errno));
		return ret;
	}
	return 0;
}

long ht_poll(struct ht_tracer *ht, void *buf, size_t cap, int timeout_ms)
{
	struct epoll_event events[8];

	/*
	 * Wait until a ring passes its watermark (or the timeout), then drain. When the last
	 * drain filled its buffer, records are waiting already: do not wait.
	 */
	if (ht->rb.out_full)
		timeout_ms = 0;
	if (epoll_wait(perf_buffer__epoll_fd(ht->rb.pb), events, 8, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	return batch_reader_drain(&ht->rb, buf, cap);
}

size_t ht_poll_buffer_size(struct ht_tracer *ht)
{
	return ht->rb.ring_bytes;
}

int ht_raise_thread_priority(void)
{
	/* On Linux, PRIO_PROCESS with a thread id sets that one thread's nice value. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), -10))
		return -errno;
	return 0;
}

uint64_t ht_lost_samples(struct ht_tracer *ht)
{
	return ht->rb.lost;
}

int64_t ht_realtime_offset_ns(void)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return ((int64_t)real.tv_sec - mono.tv_sec) * 1000000000LL +
	       ((int64_t)real.tv_nsec - mono.tv_nsec);
}

int ht_stats(struct ht_tracer *ht, uint64_t *out, int n)
{
	uint64_t stats[HT_STAT_MAX] = {0};
	int ncpus = libbpf_num_possible_cpus();

	if (ncpus > 0) {
		uint64_t *values = calloc(ncpus, sizeof(*values));

		for (uint32_t key = 0; values && key < HT_CNT_MAX; key++) {
			if (bpf_map__lookup_elem(ht->skel->maps.counters, &key, sizeof(key), values,
						 ncpus * sizeof(*values), 0))
				continue;
			for (int cpu = 0; cpu < ncpus; cpu++)
				stats[key] += values[cpu];
		}
		free(values);
	}
	stats[HT_STAT_LOST] = ht->rb.lost;
	stats[HT_STAT_RECEIVED] = ht->rb.received;
	/* HT_STAT_OVERFLOW stays 0: a full batch leaves records in the ring. */
	for (int i = 0; i < n && i < HT_STAT_MAX; i++)
		out[i] = stats[i];
	return HT_STAT_MAX;
}

long ht_test_run(struct ht_tracer *ht, const void *frame, uint32_t len, void *buf, size_t cap)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len, .repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(ht->skel->progs.httptrace_filter), &opts))
		return -errno;
	return batch_reader_drain(&ht->rb, buf, cap);
}

void ht_close(struct ht_tracer *ht)
{
	if (!ht)
		return;
	/* Closing the socket detaches the filter; destroying the skeleton unloads it. */
	if (ht->sock >= 0)
		close(ht->sock);
	batch_reader_close(&ht->rb);
	httptrace_bpf__destroy(ht->skel);
	free(ht);
}
