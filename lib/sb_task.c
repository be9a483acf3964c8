/*
 * Tasks on ucontext(3): makecontext, getcontext and setcontext are
 * POSIX.1-2001, still in glibc, and need nothing the C library lacks. A
 * switch costs a signal-mask syscall each way: measured in
 * docs/CONCURRENCY.md, it is well below the cost of a request.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "extern.h"

#if defined(__SANITIZE_ADDRESS__)
#define SB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_ASAN 1
#endif
#endif

#ifdef SB_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define SB_VALGRIND 1
#endif
#endif

#define STACKS_KEPT	64	/* unmapped stacks kept for the next tasks */

struct sb_task {
	ucontext_t	 ctx;
	void		(*fn)(void *);
	void		*arg;
	char		*map;		/* guard page, then the stack */
	size_t		 maplen;
	bool		 queued;	/* in the run queue */
	bool		 done;
	const char	*label;
	struct sb_task	*next;		/* run queue */
	unsigned	 vg_id;
};

static ucontext_t	 loop_ctx;	/* the event loop's own */
static struct sb_task	*cur;
static struct sb_task	*head, *tail;	/* runnable, in order */
static size_t		 alive;
static const char	*loop_label;
static char		*kept[STACKS_KEPT];
static size_t		 nkept;
static size_t		 page;
#ifdef SB_ASAN
static void		*loop_fake;
static const void	*loop_bottom;
static size_t		 loop_size;
#endif

/*
 * swapcontext(3) as getcontext and setcontext: the same switch, and what
 * the sanitizers do not intercept (AddressSanitizer warns on every
 * program that calls swapcontext; the fiber calls around each switch
 * tell it what it needs).
 */
static void
switch_to(ucontext_t *from, const ucontext_t *to)
{
	volatile bool	 back = false;

	getcontext(from);
	if (!back) {
		back = true;
		setcontext(to);
	}
}

static void
enqueue(struct sb_task *t)
{
	if (t->queued || t->done)
		return;
	t->queued = true;
	t->next = NULL;
	if (tail != NULL)
		tail->next = t;
	else
		head = t;
	tail = t;
}

/* The first thing a task runs: its function, then back to the loop. */
static void
trampoline(void)
{
	struct sb_task	*t = cur;

#ifdef SB_ASAN
	__sanitizer_finish_switch_fiber(NULL, &loop_bottom, &loop_size);
#endif
	t->fn(t->arg);
	t->done = true;
#ifdef SB_ASAN
	/* NULL: this stack ends here; ASan drops its fake frames. */
	__sanitizer_start_switch_fiber(NULL, loop_bottom, loop_size);
#endif
	setcontext(&loop_ctx);
}

static char *
stack_map(size_t len)
{
	char	*p;

	if (nkept > 0)
		return kept[--nkept];
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* The lowest page faults: an overflow stops, never corrupts. */
	if (mprotect(p, page, PROT_NONE) == -1) {
		munmap(p, len);
		return NULL;
	}
	return p;
}

static void
stack_unmap(char *p, size_t len)
{
	if (nkept < STACKS_KEPT) {
		/* Its pages go back to the system; the mapping stays. */
		madvise(p + page, len - page, MADV_DONTNEED);
		kept[nkept++] = p;
	} else
		munmap(p, len);
}

int
sb_task_spawn(void (*fn)(void *), void *arg)
{
	struct sb_task	*t;

	if (page == 0)
		page = (size_t)sysconf(_SC_PAGESIZE);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	t->maplen = SB_TASK_STACK + page;
	if ((t->map = stack_map(t->maplen)) == NULL ||
	    getcontext(&t->ctx) == -1) {
		if (t->map != NULL)
			stack_unmap(t->map, t->maplen);
		free(t);
		return -1;
	}
	t->fn = fn;
	t->arg = arg;
	t->ctx.uc_stack.ss_sp = t->map + page;
	t->ctx.uc_stack.ss_size = SB_TASK_STACK;
	t->ctx.uc_link = NULL;
	makecontext(&t->ctx, trampoline, 0);
#ifdef SB_VALGRIND
	t->vg_id = VALGRIND_STACK_REGISTER(t->map + page, t->map + t->maplen);
#endif
	alive++;
	enqueue(t);
	return 0;
}

struct sb_task *
sb_task_self(void)
{
	return cur;
}

void
sb_task_park(void)
{
	struct sb_task	*t = cur;
#ifdef SB_ASAN
	void		*fake = NULL;
#endif

	if (t == NULL) {
		sb_log(SB_LOG_ERR, "task: park outside a task");
		abort();
	}
#ifdef SB_ASAN
	__sanitizer_start_switch_fiber(&fake, loop_bottom, loop_size);
#endif
	switch_to(&t->ctx, &loop_ctx);
#ifdef SB_ASAN
	__sanitizer_finish_switch_fiber(fake, &loop_bottom, &loop_size);
#endif
}

void
sb_task_wake(struct sb_task *t)
{
	if (t != NULL)
		enqueue(t);
}

static void
finish(struct sb_task *t)
{
#ifdef SB_VALGRIND
	VALGRIND_STACK_DEREGISTER(t->vg_id);
#endif
	stack_unmap(t->map, t->maplen);
	free(t);
	alive--;
}

void
sb_task_run(void)
{
	struct sb_task	*t;

	while ((t = head) != NULL) {
		if ((head = t->next) == NULL)
			tail = NULL;
		t->queued = false;
		cur = t;
#ifdef SB_ASAN
		__sanitizer_start_switch_fiber(&loop_fake, t->ctx.uc_stack.ss_sp,
		    t->ctx.uc_stack.ss_size);
#endif
		switch_to(&loop_ctx, &t->ctx);
#ifdef SB_ASAN
		__sanitizer_finish_switch_fiber(loop_fake, NULL, NULL);
#endif
		cur = NULL;
		if (t->done)
			finish(t);
	}
}

size_t
sb_task_count(void)
{
	return alive;
}

void
sb_task_set_label(const char *label)
{
	if (cur != NULL)
		cur->label = label;
	else
		loop_label = label;
}

const char *
sb_task_label(void)
{
	return cur != NULL ? cur->label : loop_label;
}

void
sb_task_cleanup(void)
{
	while (nkept > 0)
		munmap(kept[--nkept], SB_TASK_STACK + page);
}
