#include <sys/epoll.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

#define EVENTS_MAX	256	/* taken from the kernel per epoll_wait */
#define FDS_MAX		(1 << 20)

/* A task's wait on an fd. */
struct waiting {
	struct sb_task	*task;
	int		 fd;
	int		 result;
	struct sb_timer	 timer;
};

/* What the loop knows of one fd. */
struct fdent {
	unsigned	 in_epoll;	/* the events registered; 0: none */
	bool		 added;
	/* A task waiting on it: its wait lives on the task's stack. */
	struct waiting	*waiter;
	/* Or a watcher. */
	void		(*cb)(int, unsigned, void *);
	void		*arg;
};

static int		 ep = -1;
static struct fdent	*fds;
static size_t		 nfds;		/* entries in fds */
static size_t		 nwatched;
static struct sb_timer	**heap;
static size_t		 nheap, heapcap;

int
sb_loop_init(void)
{
	if (ep != -1)
		return 0;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	return 0;
}

void
sb_loop_free(void)
{
	if (ep != -1)
		close(ep);
	ep = -1;
	free(fds);
	fds = NULL;
	nfds = nwatched = 0;
	free(heap);
	heap = NULL;
	nheap = heapcap = 0;
}

static struct fdent *
ent(int fd)
{
	struct fdent	*p;
	size_t		 n;

	if (fd < 0 || fd >= FDS_MAX)
		return NULL;
	if ((size_t)fd >= nfds) {
		for (n = nfds ? nfds : 64; n <= (size_t)fd;)
			n *= 2;
		if ((p = realloc(fds, n * sizeof(*p))) == NULL)
			return NULL;
		memset(p + nfds, 0, (n - nfds) * sizeof(*p));
		fds = p;
		nfds = n;
	}
	return &fds[fd];
}

/* Registers events for fd (0: none, the fd stays added). */
static int
arm(int fd, struct fdent *e, unsigned events)
{
	struct epoll_event ev;

	if (e->added && e->in_epoll == events)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(ep, e->added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd,
	    &ev) == -1) {
		/* The fd was closed and its number reused behind our back. */
		if (errno == ENOENT && e->added &&
		    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0)
			;
		else if (errno == EEXIST && !e->added &&
		    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == 0)
			;
		else
			return -1;
	}
	e->added = true;
	e->in_epoll = events;
	return 0;
}

/* ---- the timer heap ----------------------------------------------- */

static void
heap_set(size_t i, struct sb_timer *t)
{
	heap[i] = t;
	t->slot = i + 1;
}

static void
heap_up(size_t i)
{
	struct sb_timer	*t = heap[i];

	while (i > 0 && heap[(i - 1) / 2]->at > t->at) {
		heap_set(i, heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(i, t);
}

static void
heap_down(size_t i)
{
	struct sb_timer	*t = heap[i];
	size_t		 c;

	while ((c = 2 * i + 1) < nheap) {
		if (c + 1 < nheap && heap[c + 1]->at < heap[c]->at)
			c++;
		if (heap[c]->at >= t->at)
			break;
		heap_set(i, heap[c]);
		i = c;
	}
	heap_set(i, t);
}

void
sb_loop_timer_stop(struct sb_timer *t)
{
	size_t	 i;

	if (t->slot == 0)
		return;
	i = t->slot - 1;
	t->slot = 0;
	if (--nheap == i)
		return;
	heap_set(i, heap[nheap]);
	heap_down(i);
	heap_up(heap[i]->slot - 1);
}

static int
timer_start(struct sb_timer *t, int64_t at)
{
	struct sb_timer	**p;
	size_t		  n;

	sb_loop_timer_stop(t);
	t->at = at;
	if (nheap == heapcap) {
		n = heapcap ? heapcap * 2 : 64;
		if ((p = realloc(heap, n * sizeof(*p))) == NULL)
			return -1;
		heap = p;
		heapcap = n;
	}
	heap_set(nheap++, t);
	heap_up(nheap - 1);
	return 0;
}

void
sb_loop_timer(struct sb_timer *t, int64_t at, void (*cb)(void *), void *arg)
{
	t->cb = cb;
	t->arg = arg;
	if (timer_start(t, at) == -1) {
		/* No room in the heap: at once rather than never. */
		sb_log(SB_LOG_ERR, "loop: out of memory for a timer");
		cb(arg);
	}
}

/* ---- waiting ------------------------------------------------------- */

/* Outside a task: blocks in poll(2) instead. */
static int
wait_blocking(int fd, unsigned events, int64_t deadline)
{
	struct pollfd	 p = { .fd = fd };
	int64_t		 left;
	int		 n;

	p.events = (short)((events & SB_EV_IN ? POLLIN : 0) |
	    (events & SB_EV_OUT ? POLLOUT : 0));
	for (;;) {
		left = deadline == INT64_MAX ? -1 : deadline - sb_now_ms();
		if (deadline != INT64_MAX && left <= 0)
			return 0;
		n = poll(&p, 1, left > 60000 || left < 0 ? 60000 : (int)left);
		if (n > 0)
			return (p.revents & POLLIN ? SB_EV_IN : 0) |
			    (p.revents & POLLOUT ? SB_EV_OUT : 0) |
			    (p.revents & POLLERR ? SB_EV_ERR : 0) |
			    (p.revents & POLLHUP ? SB_EV_HUP : 0);
		if (n == -1 && errno != EINTR)
			return SB_EV_ERR;
	}
}

static void
wait_timeout(void *arg)
{
	struct waiting	*w = arg;

	if (w->fd >= 0 && (size_t)w->fd < nfds && fds[w->fd].waiter == w)
		fds[w->fd].waiter = NULL;
	w->result = 0;
	sb_task_wake(w->task);
}

int
sb_loop_wait_fd(int fd, unsigned events, int64_t deadline)
{
	struct waiting	 w;
	struct fdent	*e;
	struct sb_task	*self = sb_task_self();

	if (self == NULL || ep == -1)
		return wait_blocking(fd, events, deadline);
	if ((e = ent(fd)) == NULL || e->waiter != NULL || e->cb != NULL ||
	    arm(fd, e, (events & (SB_EV_IN | SB_EV_OUT)) | EPOLLRDHUP) == -1) {
		sb_log(SB_LOG_ERR, "loop: cannot wait on fd %d", fd);
		return SB_EV_ERR;
	}
	memset(&w, 0, sizeof(w));
	w.task = self;
	w.fd = fd;
	e->waiter = &w;
	nwatched++;
	if (deadline != INT64_MAX) {
		w.timer.cb = wait_timeout;
		w.timer.arg = &w;
		if (timer_start(&w.timer, deadline) == -1)
			w.timer.slot = 0;
	}
	sb_task_park();
	sb_loop_timer_stop(&w.timer);
	nwatched--;
	/* ent() may have moved the table: look again. */
	e = &fds[fd];
	if (e->waiter == &w)
		e->waiter = NULL;
	/* Level-triggered: nothing may fire for an fd nobody waits on. */
	(void)arm(fd, e, 0);
	return w.result;
}

void
sb_loop_wake_fd(int fd)
{
	struct waiting	*w;

	if (fd < 0 || (size_t)fd >= nfds || (w = fds[fd].waiter) == NULL)
		return;
	fds[fd].waiter = NULL;
	w->result = -1;
	sb_loop_timer_stop(&w->timer);
	sb_task_wake(w->task);
}

void
sb_loop_forget(int fd)
{
	struct fdent	*e;

	if (fd < 0 || (size_t)fd >= nfds)
		return;
	e = &fds[fd];
	if (e->added && ep != -1)
		epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	if (e->cb != NULL)
		nwatched--;
	e->added = false;
	e->in_epoll = 0;
	e->cb = NULL;
	e->arg = NULL;
}

static void
sleep_done(void *arg)
{
	sb_task_wake(arg);
}

void
sb_loop_sleep(int64_t ms)
{
	struct sb_timer	 t;
	struct timespec	 ts;
	struct sb_task	*self = sb_task_self();

	if (ms <= 0)
		return;
	if (self == NULL || ep == -1) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			continue;
		return;
	}
	memset(&t, 0, sizeof(t));
	sb_loop_timer(&t, sb_add_sat(sb_now_ms(), ms), sleep_done, self);
	sb_task_park();
	sb_loop_timer_stop(&t);
}

int
sb_loop_watch(int fd, unsigned events, void (*cb)(int, unsigned, void *),
    void *arg)
{
	struct fdent	*e;

	if ((e = ent(fd)) == NULL || e->waiter != NULL)
		return -1;
	if (events == 0) {
		if (e->cb != NULL)
			nwatched--;
		e->cb = NULL;
		return arm(fd, e, 0);
	}
	if (arm(fd, e, events & (SB_EV_IN | SB_EV_OUT)) == -1)
		return -1;
	if (e->cb == NULL)
		nwatched++;
	e->cb = cb;
	e->arg = arg;
	return 0;
}

size_t
sb_loop_watched(void)
{
	return nwatched;
}

/* ---- the loop ------------------------------------------------------ */

static void
fire_timers(void)
{
	struct sb_timer	*t;
	int64_t		 now = sb_now_ms();

	while (nheap > 0 && heap[0]->at <= now) {
		t = heap[0];
		sb_loop_timer_stop(t);
		t->cb(t->arg);
	}
}

void
sb_loop_once(int64_t max_ms)
{
	struct epoll_event evs[EVENTS_MAX];
	struct fdent	*e;
	struct waiting	*w;
	int64_t		 wait = max_ms, due;
	unsigned	 got;
	int		 n, i, fd;

	sb_task_run();
	if (nheap > 0) {
		due = heap[0]->at - sb_now_ms();
		if (due < 0)
			due = 0;
		if (wait < 0 || due < wait)
			wait = due;
	}
	n = epoll_wait(ep, evs, EVENTS_MAX, wait < 0 ? -1 :
	    wait > 60000 ? 60000 : (int)wait);
	for (i = 0; i < n; i++) {
		fd = evs[i].data.fd;
		if (fd < 0 || (size_t)fd >= nfds)
			continue;
		e = &fds[fd];
		got = evs[i].events & (EPOLLIN | EPOLLOUT | EPOLLERR |
		    EPOLLHUP | EPOLLRDHUP);
		if (got & EPOLLRDHUP)
			got = (got & ~(unsigned)EPOLLRDHUP) | SB_EV_IN;
		if ((w = e->waiter) != NULL) {
			e->waiter = NULL;
			w->result = (int)got;
			sb_loop_timer_stop(&w->timer);
			sb_task_wake(w->task);
			/* Quiet until the task waits again. */
			(void)arm(fd, e, 0);
		} else if (e->cb != NULL)
			e->cb(fd, got, e->arg);
	}
	fire_timers();
	sb_task_run();
}
