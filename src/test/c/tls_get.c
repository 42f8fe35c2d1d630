// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A test client linked statically to OpenSSL and exporting its API (as node does): the
 * TLS tracer must find and probe this executable itself, not a libssl.so.
 *
 * Usage: tls_get PORT PATH. Waits for a line on stdin (so the tracer can start while it
 * runs), GETs https://127.0.0.1:PORT/PATH over one connection, prints its local port and
 * the bytes of the answer it read, and exits 0 after one more line (so the tracer can read
 * its /proc entry).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/ssl.h>

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	char request[512], buf[4096], line[16];
	long total = 0;
	SSL_CTX *ctx;
	SSL *ssl;
	int fd, n;

	if (argc != 3)
		return 2;
	if (!fgets(line, sizeof(line), stdin))
		return 2;
	ctx = SSL_CTX_new(TLS_client_method());
	fd = socket(AF_INET, SOCK_STREAM, 0);
	addr.sin_port = htons(atoi(argv[1]));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!ctx || fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return 1;
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		return 1;
	snprintf(request, sizeof(request),
		 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: tls_get\r\nConnection: close\r\n\r\n", argv[2]);
	if (SSL_write(ssl, request, strlen(request)) <= 0)
		return 1;
	while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
		total += n;
	getsockname(fd, (struct sockaddr *)&addr, &len);
	printf("%d %ld\n", ntohs(addr.sin_port), total);
	fflush(stdout);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return fgets(line, sizeof(line), stdin) ? 0 : 2;
}
