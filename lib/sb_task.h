/*
 * sb_task.h: requests on small stacks of their own, in one thread.
 *
 * A worker carries many requests at once. Each runs as a task: a
 * function on a stack of its own (SB_TASK_STACK bytes, with a guard page
 * below it), which gives the processor up only where it would wait (for a
 * socket, a timer, a database connection) and gets it back once the event
 * loop (sb_loop.h) sees that event. Between those points a task runs
 * alone: what it reads and writes of the worker's memory needs no lock.
 * Route code never sees any of this: it calls and the call returns.
 */
#ifndef SB_TASK_H
#define SB_TASK_H

#include <stdbool.h>
#include <stddef.h>

#define SB_TASK_STACK	(256 * 1024)	/* mapped; only what is used is resident */

struct sb_task;

/*
 * Starts fn(arg) as a task. It first runs at the next sb_task_run().
 * Returns 0, or -1 if out of memory (fn is not run).
 */
int		 sb_task_spawn(void (*fn)(void *), void *arg);

/* The task that runs now; NULL outside any task (the event loop). */
struct sb_task	*sb_task_self(void);

/*
 * Gives the processor up until sb_task_wake() names this task. Only from
 * within a task.
 */
void		 sb_task_park(void);

/* Makes a parked task runnable; it runs at the next sb_task_run(). */
void		 sb_task_wake(struct sb_task *);

/* Runs every runnable task until each has parked again or ended. */
void		 sb_task_run(void);

/* Tasks alive: running, runnable or parked. */
size_t		 sb_task_count(void);

/*
 * The request id a task's log lines carry (see sb_log.h): set by the task
 * for itself; outside a task, the loop's own. NULL: none.
 */
void		 sb_task_set_label(const char *);
const char	*sb_task_label(void);

/* Unmaps the stacks kept for reuse (at exit; leak checkers read this). */
void		 sb_task_cleanup(void);

#endif
