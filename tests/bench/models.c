/*
 * models.c: the two ways a worker could carry many requests that wait,
 * measured side by side (docs/CONCURRENCY.md).
 *
 *   build/bench/models tasks|threads N ROUNDS
 *
 * N requests are in flight at once; each makes ROUNDS calls to a peer
 * that answers at once (a socketpair), waiting for each answer as a
 * request waits for sentc. "tasks": the library's tasks on the event
 * loop (sb_task.h, sb_loop.h), one thread. "threads": a thread per
 * request, blocking, with stacks of the tasks' size. Prints the cost per
 * call and the peak resident memory: the price of waiting, without the
 * work around it.
 */
#include <sys/socket.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

static long	 rounds;

struct pair {
	int	 c, s;		/* the request's end, the peer's */
};

/* ---- tasks --------------------------------------------------------- */

static void
client_task(void *arg)
{
	struct pair	*p = arg;
	char		 b[64];
	long		 i;

	memset(b, 'r', sizeof(b));
	for (i = 0; i < rounds; i++) {
		if (write(p->c, b, sizeof(b)) != (ssize_t)sizeof(b))
			abort();
		sb_loop_wait_fd(p->c, SB_EV_IN, INT64_MAX);
		if (read(p->c, b, sizeof(b)) != (ssize_t)sizeof(b))
			abort();
	}
}

static void
peer_task(void *arg)
{
	struct pair	*p = arg;
	char		 b[64];
	long		 i;

	for (i = 0; i < rounds; i++) {
		sb_loop_wait_fd(p->s, SB_EV_IN, INT64_MAX);
		if (read(p->s, b, sizeof(b)) != (ssize_t)sizeof(b) ||
		    write(p->s, b, sizeof(b)) != (ssize_t)sizeof(b))
			abort();
	}
}

/* ---- threads ------------------------------------------------------- */

static void *
client_thread(void *arg)
{
	struct pair	*p = arg;
	char		 b[64];
	long		 i;

	memset(b, 'r', sizeof(b));
	for (i = 0; i < rounds; i++)
		if (write(p->c, b, sizeof(b)) != (ssize_t)sizeof(b) ||
		    read(p->c, b, sizeof(b)) != (ssize_t)sizeof(b))
			abort();
	return NULL;
}

static void *
peer_thread(void *arg)
{
	struct pair	*p = arg;
	char		 b[64];
	long		 i;

	for (i = 0; i < rounds; i++)
		if (read(p->s, b, sizeof(b)) != (ssize_t)sizeof(b) ||
		    write(p->s, b, sizeof(b)) != (ssize_t)sizeof(b))
			abort();
	return NULL;
}

/* Peak resident memory of this process, in KiB. */
static long
hwm_kib(void)
{
	char	 line[256];
	long	 v = -1;
	FILE	*f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			v = atol(line + 6);
	fclose(f);
	return v;
}

int
main(int argc, char *argv[])
{
	struct pair	*p;
	pthread_t	*th;
	pthread_attr_t	 attr;
	int64_t		 t0, t1;
	long		 n, i;
	int		 sv[2], threads;

	if (argc != 4 || (threads = strcmp(argv[1], "threads") == 0,
	    !threads && strcmp(argv[1], "tasks") != 0) ||
	    (n = atol(argv[2])) < 1 || (rounds = atol(argv[3])) < 1) {
		fprintf(stderr, "usage: models tasks|threads N ROUNDS\n");
		return 2;
	}
	if ((p = calloc((size_t)n, sizeof(*p))) == NULL ||
	    (th = calloc((size_t)n * 2, sizeof(*th))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | (threads ? 0 :
		    SOCK_NONBLOCK), 0, sv) == -1)
			return 1;
		p[i].c = sv[0];
		p[i].s = sv[1];
	}
	t0 = sb_now_ms();
	if (threads) {
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, SB_TASK_STACK);
		for (i = 0; i < n; i++)
			if (pthread_create(&th[2 * i], &attr, peer_thread,
			    &p[i]) != 0 || pthread_create(&th[2 * i + 1], &attr,
			    client_thread, &p[i]) != 0)
				return 1;
		for (i = 0; i < 2 * n; i++)
			pthread_join(th[i], NULL);
	} else {
		if (sb_loop_init() == -1)
			return 1;
		for (i = 0; i < n; i++)
			if (sb_task_spawn(peer_task, &p[i]) == -1 ||
			    sb_task_spawn(client_task, &p[i]) == -1)
				return 1;
		while (sb_task_count() > 0)
			sb_loop_once(-1);
	}
	t1 = sb_now_ms();
	printf("%s\t%ld in flight\t%.2f us per call\t%.1f MiB peak RSS\n",
	    argv[1], n, (double)(t1 - t0) * 1000 / ((double)n * rounds),
	    (double)hwm_kib() / 1024);
	return 0;
}
