// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Signals as requests to stop: see signals.h. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "signals.h"

static int pipe_fds[2] = {-1, -1};
static pthread_mutex_t setup = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int signum)
{
	int saved = errno;
	unsigned char b = (unsigned char)signum;

	/* Non-blocking: with the pipe full (64 KiB of signals unread), one more changes nothing. */
	if (write(pipe_fds[1], &b, 1) < 0) {
		/* nothing a handler can do */
	}
	errno = saved;
}

static int open_pipe(void)
{
	if (pipe_fds[0] >= 0)
		return 0;
	if (pipe2(pipe_fds, O_CLOEXEC) < 0)
		return -errno;
	if (fcntl(pipe_fds[1], F_SETFL, O_NONBLOCK) < 0) {
		int err = -errno;

		close(pipe_fds[0]);
		close(pipe_fds[1]);
		pipe_fds[0] = pipe_fds[1] = -1;
		return err;
	}
	return 0;
}

int ht_signal_catch(int signum, int even_if_ignored)
{
	struct sigaction sa, old;
	int err;

	pthread_mutex_lock(&setup);
	err = open_pipe();
	if (err)
		goto out;
	if (sigaction(signum, NULL, &old) < 0) {
		err = -errno;
		goto out;
	}
	if (!even_if_ignored && !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN) {
		err = 1;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (sigaction(signum, &sa, NULL) < 0)
		err = -errno;
out:
	pthread_mutex_unlock(&setup);
	return err;
}

int ht_signal_wait(void)
{
	unsigned char b;
	ssize_t n;

	if (pipe_fds[0] < 0)
		return -EBADF;
	do {
		n = read(pipe_fds[0], &b, 1);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	return b;
}
