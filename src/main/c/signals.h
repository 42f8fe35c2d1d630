/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Signals as requests to stop the trace. The JVM cannot let Java handle SIGQUIT (it
 * prints a thread dump, onto stdout), and a handler in Java runs code a signal handler
 * must not. So the handler is this C one: it writes the signal's number into a pipe
 * (write is async-signal-safe), and a Java thread blocked in ht_signal_wait reads it and
 * asks the poll loop to stop.
 */
#ifndef HTTPTRACE_SIGNALS_H
#define HTTPTRACE_SIGNALS_H

/*
 * Catches signum from now on (replacing the JVM's handler, if any). A signal that is
 * ignored now stays ignored unless even_if_ignored (nohup leaves SIGHUP ignored on
 * purpose; a script's background job starts with SIGINT and SIGQUIT ignored without
 * meaning it). Returns 0 when caught, 1 when left ignored, or a negative errno.
 */
int ht_signal_catch(int signum, int even_if_ignored);

/* Blocks until a caught signal arrives; returns its number or a negative errno. */
int ht_signal_wait(void);

#endif /* HTTPTRACE_SIGNALS_H */
