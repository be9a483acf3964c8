/*
 * floor: the FastCGI floor of the benchmark. The least a libfcgi program
 * behind nginx can do: take a request, answer a fixed sentc envelope with
 * the headers the route programs send, finish. No parsing, no logging.
 *
 *   floor -s socket [-w workers] [-l]
 *
 * Binds the Unix socket, forks the workers (as many as a route program
 * runs) and waits; SIGTERM stops them all. The workers take requests as
 * the route programs do (lib/sb_fcgi on the event loop, a task per
 * connection: kept connections, served whatever their number), or with -l
 * as libfcgi's own loop does (FCGX_Accept_r, one connection per request,
 * libfcgi's lingering close).
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sys/socket.h>

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "extern.h"

static const char answer[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 34\r\n"
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "\r\n"
    "{\"status\":true,\"result\":\"Success\"}";

static bool	 stop;	/* never set: SIGTERM ends the worker */

static void
handle(struct sb_fcgi_req *r, char **out, size_t *len, void *arg)
{
	(void)r;
	(void)arg;
	if ((*out = malloc(sizeof(answer) - 1)) != NULL) {
		memcpy(*out, answer, sizeof(answer) - 1);
		*len = sizeof(answer) - 1;
	}
}

static void
conn(void *arg)
{
	sb_fcgi_serve((int)(intptr_t)arg, 1 << 20, handle, NULL, &stop);
}

static void
on_listen(int fd, unsigned ev, void *arg)
{
	int	 c;

	(void)ev;
	(void)arg;
	while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) !=
	    -1)
		if (sb_task_spawn(conn, (void *)(intptr_t)c) == -1)
			close(c);
}

static _Noreturn void
worker(int fd, int plain)
{
	FCGX_Request	 fr;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGTERM, SIG_DFL);
	if (plain) {
		if (FCGX_InitRequest(&fr, fd, 0) != 0)
			_exit(1);
		while (FCGX_Accept_r(&fr) >= 0) {
			FCGX_PutStr(answer, (int)sizeof(answer) - 1, fr.out);
			FCGX_Finish_r(&fr);
		}
		_exit(0);
	}
	if (sb_loop_init() == -1 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
	    sb_loop_watch(fd, SB_EV_IN, on_listen, NULL) == -1)
		_exit(1);
	for (;;)
		sb_loop_once(-1);
}

int
main(int argc, char *argv[])
{
	const char	*sock = NULL;
	char		*end;
	long		 n = 2, i;
	int		 c, fd, plain = 0;

	while ((c = getopt(argc, argv, "ls:w:")) != -1)
		switch (c) {
		case 'l':
			plain = 1;
			break;
		case 's':
			sock = optarg;
			break;
		case 'w':
			n = strtol(optarg, &end, 10);
			if (*end != '\0' || n < 1 || n > 256)
				n = 0;
			break;
		default:
			n = 0;
			break;
		}
	if (sock == NULL || n == 0) {
		fprintf(stderr, "usage: floor -s socket [-w workers] [-l]\n");
		return 2;
	}
	if (FCGX_Init() != 0 || (unlink(sock), fd = FCGX_OpenSocket(sock,
	    1024)) < 0 || chmod(sock, 0660) == -1) {
		perror(sock);
		return 1;
	}
	signal(SIGTERM, SIG_IGN);
	for (i = 0; i < n; i++)
		if (fork() == 0)
			worker(fd, plain);
	/* SIGTERM ends it; the workers follow (PR_SET_PDEATHSIG). */
	signal(SIGTERM, SIG_DFL);
	while (wait(NULL) > 0)
		continue;
	return 0;
}
