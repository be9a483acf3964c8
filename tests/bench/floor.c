/*
 * floor: the FastCGI floor of the benchmark. The least a libfcgi program
 * behind nginx can do: take a request, answer a fixed sentc envelope with
 * the headers the route programs send, finish. No parsing, no logging.
 *
 *   floor -s socket [-w workers] [-l]
 *
 * Binds the Unix socket, forks the workers (as many as a route program
 * runs) and waits; SIGTERM stops them all. The workers take requests as
 * the route programs do (lib/sb_conn: kept connections, served whatever
 * their number), or with -l as libfcgi's own loop does (FCGX_Accept_r,
 * one connection per request, libfcgi's lingering close).
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "sb_conn.h"

static const char answer[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 34\r\n"
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "\r\n"
    "{\"status\":true,\"result\":\"Success\"}";

static volatile sig_atomic_t	 stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static _Noreturn void
worker(int fd, int plain)
{
	struct sb_conns	*c;
	FCGX_Request	 fr, *r;
	sigset_t	 none, term;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (plain) {
		signal(SIGTERM, SIG_DFL);
		if (FCGX_InitRequest(&fr, fd, 0) != 0)
			_exit(1);
		while (FCGX_Accept_r(&fr) >= 0) {
			FCGX_PutStr(answer, (int)sizeof(answer) - 1, fr.out);
			FCGX_Finish_r(&fr);
		}
		_exit(0);
	}
	signal(SIGTERM, on_term);
	sigemptyset(&none);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	if ((c = sb_conns_new(fd)) == NULL)
		_exit(1);
	while ((r = sb_conns_next(c, &stop, &none)) != NULL) {
		FCGX_PutStr(answer, (int)sizeof(answer) - 1, r->out);
		sb_conns_done(c, r);
	}
	sb_conns_free(c);
	_exit(0);
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
