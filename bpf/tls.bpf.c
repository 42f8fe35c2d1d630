// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TLS plaintext from OpenSSL: uprobes on SSL_read, SSL_write, SSL_read_ex, SSL_write_ex
 * (entry and return), SSL_do_handshake (entry and return), SSL_free and SSL_clear (entry), and
 * the sock_send_length/sock_recv_length tracepoints, which name the socket of a send or
 * receive made while an SSL call is open on the same thread. Separate from the socket filter (bpf/httptrace.bpf.c): its own skeleton.
 *
 * Bytes are read on return only, and only when the call succeeded: a call that fails
 * (non-blocking WANT_READ/WANT_WRITE) is retried later with the same buffer. Each
 * direction of each stream (process, SSL *) gets a byte position assigned here, so user
 * space can order the records of different CPUs and see what was lost.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <linux/in6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "tls_event.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10

/* Only the fields read here; CO-RE finds them in the running kernel by name. */
struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
} __attribute__((preserve_access_index));

/* What the path of a process's executable is read through (CO-RE, by name). */
struct qstr {
	__u32 len;
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
} __attribute__((preserve_access_index));

struct vfsmount {
	struct dentry *mnt_root;
} __attribute__((preserve_access_index));

struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
} __attribute__((preserve_access_index));

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct file {
	struct path f_path;
} __attribute__((preserve_access_index));

struct mm_struct {
	struct file *exe_file;
} __attribute__((preserve_access_index));

struct task_struct {
	struct mm_struct *mm;
	struct task_struct *group_leader;
	__u64 start_time;
} __attribute__((preserve_access_index));

/* An SSL call open on a thread, from its entry to its return. */
struct call {
	__u64 ssl;
	__u64 buf;
	__u64 exlen;   /* SSL_*_ex: where the byte count is written; 0 for SSL_read/SSL_write */
	__u8 dir;      /* enum ht_tls_dir */
};

/* One TLS stream: positions per direction and the socket under it, once known. */
struct stream {
	__u32 serial;  /* a random number: tells this stream from a later one of the same key */
	__u32 wr_pos;
	__u32 rd_pos;
	__u8 family;
	__u8 from_start;
	__u16 lport;
	__u16 rport;
	__u8 laddr[16];
	__u8 raddr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} tls_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);             /* pid_tgid */
	__type(value, struct call);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ht_tls_stream_key);
	__type(value, struct stream);
} streams SEC(".maps");

/*
 * Streams whose plaintext user space does not want: the second traced end of a connection
 * already reported from the first, or a stream --port/--host leaves out. Their positions
 * still advance; nothing is copied. Written by user space (ht_tls_mute), late: the value is
 * the stream's serial, so a mute that comes after the SSL object was freed and reused for
 * another connection (same key) does not silence that one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ht_tls_stream_key);
	__type(value, __u32);
} muted SEC(".maps");

/*
 * Processes whose executable was reported (HT_TLS_PROCESS), with the start time of the
 * process then: a pid reused by a new process is reported again.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);    /* tgid */
	__type(value, __u64);  /* the process's start time */
} processes SEC(".maps");

/* A record is too big for the BPF stack: each CPU builds it in its own slot. */
struct record {
	struct ht_tls_event hdr;
	__u8 data[HT_TLS_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct record);
} scratch SEC(".maps");

/* Path components written at most: deeper paths are cut (user space sees no root then). */
#define PATH_DEPTH 32
/* Bytes of component names written at most (each is at most 255 bytes and a NUL). */
#define PATH_BYTES 4096

/* Where the walk up the path of an executable stands; bpf_loop's context. */
struct path_walk {
	__u8 *buf;
	struct dentry *d;
	struct mount *mnt;
	__u32 off;
};

/* One step of the walk: a name written and one level up, or a mount crossed. 1 ends it. */
static long path_step(__u64 i, void *ctx)
{
	struct path_walk *w = ctx;
	/* Plain locals: CO-RE relocates every access inside BPF_CORE_READ, w's own too. */
	struct dentry *d = w->d, *parent;
	struct mount *mnt = w->mnt, *up;
	long n;

	if (d == BPF_CORE_READ(mnt, mnt.mnt_root)) {
		/* The top of a mount: go on from where it is mounted, up to the first mount. */
		up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt)
			return 1;
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (parent == d || w->off >= PATH_BYTES - 256)
		return 1;
	n = bpf_probe_read_kernel_str(w->buf + (w->off & (PATH_BYTES - 1)), 256, BPF_CORE_READ(d, d_name.name));
	if (n <= 0)
		return 1;
	w->off += n;
	w->d = parent;
	return 0;
}

/*
 * Writes the path of the current process's executable into buf as NUL-terminated names,
 * from the file up to the root of all mounts (bpf_d_path is not allowed in uprobes).
 * Returns the bytes written, 0 when the process has no executable file.
 */
static __always_inline __u32 exe_path(__u8 *buf)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	struct path_walk w = { .buf = buf };
	struct vfsmount *vmnt;

	if (!exe)
		return 0;
	w.d = BPF_CORE_READ(exe, f_path.dentry);
	vmnt = BPF_CORE_READ(exe, f_path.mnt);
	w.mnt = (struct mount *)((void *)vmnt - bpf_core_field_offset(struct mount, mnt));
	bpf_loop(PATH_DEPTH, path_step, &w, 0);
	return w.off;
}

/* The first SSL call of a process (or of a new process with a reused pid) reports its executable. */
static __always_inline void note_process(void *ctx, __u64 id)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 start = BPF_CORE_READ(task, group_leader, start_time);
	__u32 tgid = id >> 32, zero = 0;
	__u64 *known = bpf_map_lookup_elem(&processes, &tgid);
	struct record *r;
	__u32 len;

	if (known && *known == start)
		return;
	bpf_map_update_elem(&processes, &tgid, &start, BPF_ANY);
	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return;
	len = exe_path(r->data);
	if (len == 0 || len > HT_TLS_CHUNK)
		return;
	__builtin_memset(&r->hdr, 0, sizeof(r->hdr));
	r->hdr.timestamp_ns = bpf_ktime_get_ns();
	r->hdr.tgid = tgid;
	r->hdr.tid = (__u32)id;
	r->hdr.kind = HT_TLS_PROCESS;
	r->hdr.len = len;
	bpf_get_current_comm(r->hdr.comm, sizeof(r->hdr.comm));
	bpf_perf_event_output(ctx, &tls_events, BPF_F_CURRENT_CPU, r, sizeof(r->hdr) + (len & (HT_TLS_CHUNK - 1)));
}

static __always_inline void open_call(void *ctx, void *ssl, void *buf, void *exlen, __u8 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct call c = {
		.ssl = (__u64)ssl, .buf = (__u64)buf, .exlen = (__u64)exlen, .dir = dir,
	};

	note_process(ctx, id);
	bpf_map_update_elem(&calls, &id, &c, BPF_ANY);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_enter, void *ssl, void *buf, int num)
{
	open_call(ctx, ssl, buf, 0, HT_TLS_READ);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_enter, void *ssl, const void *buf, int num)
{
	open_call(ctx, ssl, (void *)buf, 0, HT_TLS_WRITE);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_enter, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
	open_call(ctx, ssl, buf, readbytes, HT_TLS_READ);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_enter, void *ssl, const void *buf, __u64 num, __u64 *written)
{
	open_call(ctx, ssl, (void *)buf, written, HT_TLS_WRITE);
	return 0;
}

static __always_inline struct stream *stream_of(__u64 ssl, __u32 tgid)
{
	struct ht_tls_stream_key key = { .ssl = ssl, .tgid = tgid };
	struct stream *s = bpf_map_lookup_elem(&streams, &key);
	struct stream fresh = {};

	if (s)
		return s;
	fresh.serial = bpf_get_prandom_u32();
	bpf_map_update_elem(&streams, &key, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&streams, &key);
}

static __always_inline void fill_header(struct ht_tls_event *e, struct stream *s, __u64 ssl, __u64 id, __u8 kind)
{
	e->timestamp_ns = bpf_ktime_get_ns();
	e->ssl = ssl;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->serial = s->serial;
	e->kind = kind;
	e->family = s->family;
	e->from_start = s->from_start;
	e->lport = s->lport;
	e->rport = s->rport;
	__builtin_memcpy(e->laddr, s->laddr, 16);
	__builtin_memcpy(e->raddr, s->raddr, 16);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/* Copies the n bytes at buf into records of at most HT_TLS_CHUNK bytes each. */
static __always_inline void emit_data(void *ctx, struct call *c, __u32 n, __u64 id)
{
	__u32 zero = 0, pos, off = 0;
	struct record *r = bpf_map_lookup_elem(&scratch, &zero);
	struct stream *s = stream_of(c->ssl, id >> 32);
	struct ht_tls_stream_key key = { .ssl = c->ssl, .tgid = id >> 32 };
	__u32 *mute;

	if (!r || !s)
		return;
	/* One thread at a time uses an SSL object (OpenSSL's rule): no atomics needed. */
	if (c->dir == HT_TLS_WRITE) {
		pos = s->wr_pos;
		s->wr_pos = pos + n;
		r->hdr.other_pos = s->rd_pos;
	} else {
		pos = s->rd_pos;
		s->rd_pos = pos + n;
		r->hdr.other_pos = s->wr_pos;
	}
	mute = bpf_map_lookup_elem(&muted, &key);
	if (mute && *mute == s->serial)
		return;
	fill_header(&r->hdr, s, c->ssl, id, HT_TLS_DATA);
	r->hdr.dir = c->dir;
	for (int i = 0; i < HT_TLS_MAX_CHUNKS; i++) {
		__u64 len = n - off;

		if (len > HT_TLS_CHUNK)
			len = HT_TLS_CHUNK;
		/* 1..HT_TLS_CHUNK in a form the verifier can follow (off < n here, so len > 0). */
		asm volatile("" : "+r"(len));
		len = ((len - 1) & (HT_TLS_CHUNK - 1)) + 1;
		r->hdr.pos = pos + off;
		r->hdr.len = len;
		r->hdr.skipped = i == HT_TLS_MAX_CHUNKS - 1 ? n - off - len : 0;
		if (bpf_probe_read_user(r->data, len, (void *)(c->buf + off))) {
			/* unreadable: the rest of the call is declared skipped */
			r->hdr.len = 0;
			r->hdr.skipped = n - off;
			bpf_perf_event_output(ctx, &tls_events, BPF_F_CURRENT_CPU, r, sizeof(r->hdr));
			break;
		}
		bpf_perf_event_output(ctx, &tls_events, BPF_F_CURRENT_CPU, r, sizeof(r->hdr) + len);
		off += len;
		if (off >= n)
			break;
	}
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_ret, long rc)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct call *c = bpf_map_lookup_elem(&calls, &id);
	struct call copy;
	__u64 n = 0;

	if (!c)
		return 0;
	copy = *c;
	bpf_map_delete_elem(&calls, &id);
	if (copy.dir == HT_TLS_HANDSHAKE)
		return 0;
	if (copy.exlen) {
		if (rc != 1 || bpf_probe_read_user(&n, sizeof(n), (void *)copy.exlen))
			return 0;
	} else if (rc > 0) {
		n = rc;
	}
	if (n == 0 || n > 0x7fffffff)
		return 0;
	emit_data(ctx, &copy, (__u32)n, id);
	return 0;
}

/* The stream ends: user space closes it; the position state goes. */
static __always_inline void end_stream(void *ctx, void *ssl, int only_if_used)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ht_tls_stream_key key = { .ssl = (__u64)ssl, .tgid = id >> 32 };
	struct stream *s = bpf_map_lookup_elem(&streams, &key);
	__u32 zero = 0;
	struct record *r;

	if (!s || (only_if_used && !s->wr_pos && !s->rd_pos))
		return;
	r = bpf_map_lookup_elem(&scratch, &zero);
	if (r) {
		fill_header(&r->hdr, s, (__u64)ssl, id, HT_TLS_CLOSE);
		r->hdr.dir = 0;
		r->hdr.pos = s->wr_pos;
		r->hdr.other_pos = s->rd_pos;
		r->hdr.len = 0;
		r->hdr.skipped = 0;
		bpf_perf_event_output(ctx, &tls_events, BPF_F_CURRENT_CPU, r, sizeof(r->hdr));
	}
	bpf_map_delete_elem(&streams, &key);
	bpf_map_delete_elem(&muted, &key);
}

SEC("uprobe")
int BPF_KPROBE(ssl_free_enter, void *ssl)
{
	end_stream(ctx, ssl, 0);
	return 0;
}

/*
 * SSL_clear readies an SSL object for a new connection (wrk reuses one per connection
 * slot): a stream that carried data ends here, so the next connection starts afresh.
 * OpenSSL also calls it inside SSL_new, before any data: nothing to end then.
 */
SEC("uprobe")
int BPF_KPROBE(ssl_clear_enter, void *ssl)
{
	end_stream(ctx, ssl, 1);
	return 0;
}

/*
 * A handshake seen: the stream starts here (position 0 is its first byte). A handshake on
 * a stream that already carried data is a new connection on a reused SSL object (one
 * that was not cleared with SSL_clear): the old stream ends first.
 */
SEC("uprobe")
int BPF_KPROBE(ssl_handshake_enter, void *ssl)
{
	struct ht_tls_stream_key key = { .ssl = (__u64)ssl, .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct stream fresh = { .from_start = 1 };

	end_stream(ctx, ssl, 1);
	if (!bpf_map_lookup_elem(&streams, &key)) {
		fresh.serial = bpf_get_prandom_u32();
		bpf_map_update_elem(&streams, &key, &fresh, BPF_NOEXIST);
	}
	open_call(ctx, ssl, 0, 0, HT_TLS_HANDSHAKE);
	return 0;
}

/* The socket a TCP call on this thread uses, if an SSL call in that direction is open. */
static __always_inline void note_socket(struct sock *sk, __u8 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct call *c = bpf_map_lookup_elem(&calls, &id);
	struct stream *s;
	__u16 family;

	/* Only a TCP call in the SSL call's direction: a server may talk to others inside SSL_read. */
	if (!c || (c->dir != dir && c->dir != HT_TLS_HANDSHAKE) || !sk)
		return;
	s = stream_of(c->ssl, id >> 32);
	if (!s)
		return;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == AF_INET) {
		__be32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memset(s->laddr, 0, 16);
		__builtin_memset(s->raddr, 0, 16);
		__builtin_memcpy(s->laddr, &l, 4);
		__builtin_memcpy(s->raddr, &r, 4);
		s->family = 4;
	} else if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&s->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&s->raddr, sk, __sk_common.skc_v6_daddr);
		s->family = 6;
	} else {
		return;
	}
	s->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	s->rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

/*
 * The socket layer's own tracepoints (kernel 6.3+) name the socket of every send and
 * receive, on the calling thread, as the call returns. Raw tracepoints need no tracefs
 * and work on kernels built without kprobes.
 */
SEC("raw_tracepoint/sock_send_length")
int sock_send(struct bpf_raw_tracepoint_args *ctx)
{
	note_socket((struct sock *)ctx->args[0], HT_TLS_WRITE);
	return 0;
}

SEC("raw_tracepoint/sock_recv_length")
int sock_recv(struct bpf_raw_tracepoint_args *ctx)
{
	note_socket((struct sock *)ctx->args[0], HT_TLS_READ);
	return 0;
}
