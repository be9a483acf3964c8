/*
 * test_task.c: tasks (sb_task.h) and the event loop (sb_loop.h): many
 * waits at once, each ended by its own event, in the order events come.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "extern.h"

#define MANY	1000

static int	 order[MANY], norder;

struct sleeper {
	int	 id;
	int64_t	 ms;
};

static void
sleeper(void *arg)
{
	struct sleeper	*s = arg;

	sb_loop_sleep(s->ms);
	order[norder++] = s->id;
}

/* Runs the loop until every task has ended (or the bound is reached). */
static void
run_all(int64_t bound_ms)
{
	int64_t	 end = sb_now_ms() + bound_ms;

	while (sb_task_count() > 0 && sb_now_ms() < end)
		sb_loop_once(100);
	assert_int_equal(sb_task_count(), 0);
}

/* Sleeps end in the order of their times, not of their start. */
static void
test_sleep_order(void **state)
{
	static struct sleeper s[3] = { { 0, 60 }, { 1, 20 }, { 2, 40 } };
	int	 i;

	norder = 0;
	for (i = 0; i < 3; i++)
		assert_int_equal(sb_task_spawn(sleeper, &s[i]), 0);
	run_all(10000);
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 0);
}

struct pipe_wait {
	int	 fd;
	int	 got;
	char	 byte;
	int64_t	 deadline;
};

static void
reader(void *arg)
{
	struct pipe_wait *p = arg;

	p->got = sb_loop_wait_fd(p->fd, SB_EV_IN, p->deadline);
	if (p->got > 0 && read(p->fd, &p->byte, 1) != 1)
		p->got = -100;
}

static void
writer(void *arg)
{
	int	*fd = arg;

	sb_loop_sleep(20);
	assert_int_equal(write(*fd, "w", 1), 1);
}

/*
 * MANY tasks each wait on a socket of their own; a task writes to each:
 * every one wakes with its byte, none waits for another.
 */
static void
test_many_waits(void **state)
{
	static struct pipe_wait p[MANY];
	static int	 wfd[MANY];
	int		 sv[2], i;

	for (i = 0; i < MANY; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		p[i].fd = sv[0];
		p[i].got = 0;
		p[i].deadline = INT64_MAX;
		wfd[i] = sv[1];
		assert_int_equal(sb_task_spawn(reader, &p[i]), 0);
		assert_int_equal(sb_task_spawn(writer, &wfd[i]), 0);
	}
	run_all(60000);
	for (i = 0; i < MANY; i++) {
		assert_true(p[i].got & SB_EV_IN);
		assert_int_equal(p[i].byte, 'w');
		sb_loop_forget(p[i].fd);
		close(p[i].fd);
		close(wfd[i]);
	}
	assert_int_equal(sb_loop_watched(), 0);
}

/* A deadline ends the wait with 0; sb_loop_wake_fd() with -1. */
static void
test_deadline_and_wake(void **state)
{
	static struct pipe_wait a, b;
	int		 sv[2], sw[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sw), 0);
	a.fd = sv[0];
	a.deadline = sb_now_ms() + 30;
	a.got = 99;
	b.fd = sw[0];
	b.deadline = INT64_MAX;
	b.got = 99;
	assert_int_equal(sb_task_spawn(reader, &a), 0);
	assert_int_equal(sb_task_spawn(reader, &b), 0);
	sb_loop_once(0);	/* both wait now */
	assert_int_equal(sb_loop_watched(), 2);
	sb_loop_wake_fd(b.fd);
	run_all(10000);
	assert_int_equal(a.got, 0);
	assert_int_equal(b.got, -1);
	close(sv[0]);
	close(sv[1]);
	close(sw[0]);
	close(sw[1]);
}

static void
deep(void *arg)
{
	volatile char	 big[128 * 1024];
	size_t		 i;

	for (i = 0; i < sizeof(big); i += 512)
		big[i] = (char)i;
	sb_loop_sleep(1);
	*(int *)arg = big[512] == (char)512 ? 1 : 2;
}

/* A task may use half its stack; its stack is its own across a park. */
static void
test_stack(void **state)
{
	static int	 ok[4];
	int		 i;

	for (i = 0; i < 4; i++)
		assert_int_equal(sb_task_spawn(deep, &ok[i]), 0);
	run_all(10000);
	for (i = 0; i < 4; i++)
		assert_int_equal(ok[i], 1);
}

/* Outside a task the same calls block, and still return the same. */
static void
test_outside(void **state)
{
	int	 sv[2];

	assert_null(sb_task_self());
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(sb_loop_wait_fd(sv[0], SB_EV_IN, sb_now_ms() + 10),
	    0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_true(sb_loop_wait_fd(sv[0], SB_EV_IN, INT64_MAX) & SB_EV_IN);
	close(sv[0]);
	close(sv[1]);
}

static void
labelled(void *arg)
{
	sb_task_set_label(arg);
	sb_loop_sleep(5);
	assert_string_equal(sb_task_label(), arg);
}

/* Each task keeps its own log label across the others' runs. */
static void
test_labels(void **state)
{
	static char	 a[] = "a", b[] = "b";

	assert_int_equal(sb_task_spawn(labelled, a), 0);
	assert_int_equal(sb_task_spawn(labelled, b), 0);
	run_all(10000);
	assert_null(sb_task_label());
}

static int
setup(void **state)
{
	return sb_loop_init();
}

static int
teardown(void **state)
{
	sb_task_cleanup();
	sb_loop_free();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sleep_order),
		cmocka_unit_test(test_many_waits),
		cmocka_unit_test(test_deadline_and_wake),
		cmocka_unit_test(test_stack),
		cmocka_unit_test(test_outside),
		cmocka_unit_test(test_labels),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
