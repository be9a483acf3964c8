/*
 * sb_loop.h: a worker's event loop (epoll and a timer heap).
 *
 * A task (sb_task.h) that would wait calls sb_loop_wait_fd() or
 * sb_loop_sleep(): it parks, and the loop wakes it when its socket is
 * ready or its time is up. Outside a task the same calls simply block
 * (poll, nanosleep): start-up code and the tests use the library that
 * way. Code that is driven by events rather than waiting for them (the
 * listening socket, libcurl's sockets and timer) registers callbacks.
 */
#ifndef SB_LOOP_H
#define SB_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Events, as epoll's. */
#define SB_EV_IN	0x001
#define SB_EV_OUT	0x004
#define SB_EV_ERR	0x008
#define SB_EV_HUP	0x010

/* Makes this process's loop. Returns 0, or -1. */
int	 sb_loop_init(void);
void	 sb_loop_free(void);

/*
 * Waits until fd is ready for events (SB_EV_IN, SB_EV_OUT) or until
 * deadline (sb_now_ms(); INT64_MAX: none). Returns the events seen (an
 * error or hang-up counts as ready), 0 at the deadline, or -1 if
 * sb_loop_wake_fd() ended the wait first.
 */
int	 sb_loop_wait_fd(int fd, unsigned events, int64_t deadline);

/* Ends a task's wait on fd early (it returns -1). */
void	 sb_loop_wake_fd(int fd);

/*
 * The loop forgets fd: call it before closing an fd that a task waited
 * on or a watcher watched.
 */
void	 sb_loop_forget(int fd);

/* Sleeps ms milliseconds. */
void	 sb_loop_sleep(int64_t ms);

/*
 * Calls cb(fd, events seen, arg) whenever fd is ready for events, until
 * sb_loop_watch() with events 0. Returns 0, or -1.
 */
int	 sb_loop_watch(int fd, unsigned events,
	    void (*cb)(int, unsigned, void *), void *arg);

/* A timer for callbacks; zeroed before its first use. */
struct sb_timer {
	int64_t	  at;
	size_t	  slot;		/* in the heap, plus one; 0: not set */
	void	(*cb)(void *);
	void	 *arg;
};

/* Calls cb(arg) once at (sb_now_ms()). Setting it again moves it. */
void	 sb_loop_timer(struct sb_timer *, int64_t at, void (*cb)(void *),
	    void *arg);
void	 sb_loop_timer_stop(struct sb_timer *);

/*
 * Waits for the next events or timers, at most max_ms (-1: no bound),
 * handles them, then runs the tasks they made runnable.
 */
void	 sb_loop_once(int64_t max_ms);

/* How many fds a task waits on or a watcher watches, for the tests. */
size_t	 sb_loop_watched(void);

#endif
