/*
 * sb_notify.h: ends of access told to every program on every host, over
 * PostgreSQL's LISTEN/NOTIFY.
 *
 * The store NOTIFYs channel SB_NOTIFY_CHANNEL, in the transaction that
 * records an end of access or of a user's sessions, with the id it names
 * as payload. Each program that uses a PostgreSQL store has one listener:
 * a child process of its master (beside the workers) that holds one
 * connection, LISTENs, and drops the cached answers naming each id it is
 * told from the program's shared access cache.
 *
 * While the listener is not listening (at start, when its connection is
 * lost, until it is back) the program is deaf: it neither uses nor stores
 * cached access answers (a TTL of zero), and when it listens again it
 * drops every cached answer first, since it cannot know what it missed.
 * On SQLite there is no listener and a program is never deaf.
 */
#ifndef SB_NOTIFY_H
#define SB_NOTIFY_H

#include <stdbool.h>
#include <sys/types.h>

#define SB_NOTIFY_CHANNEL	"sentc_backend_drop"

/* The application_name of the listener's connection. */
#define SB_NOTIFY_APP_NAME	"sentc-backend-listen"

/*
 * In the master, before the workers fork: makes the shared state, and
 * decides whether this program listens: its route caches group access
 * (caches, with SENTC_BACKEND_ACCESS_CACHE_TTL above 0) and the store is
 * PostgreSQL. Returns 0, or -1 if out of memory.
 */
int	 sb_notify_init(bool caches);

/*
 * In the master: the store could not be reached at start (or reload).
 * A program that does not listen then starts a child that tries again
 * with backoff, logging each try, until the store answers once.
 */
void	 sb_notify_wait_db(void);

/*
 * In the master: starts the listener (again: the one running is told to
 * stop, e.g. after a reload made the caches anew), or the child that
 * waits for the store (sb_notify_wait_db()). Does nothing where neither
 * is needed. Returns 0, or -1 if fork failed (logged).
 */
int	 sb_notify_start(void);

/*
 * In the master, for every child reaped (status as waitpid() gave it):
 * true if pid was a listener or waiter. A listener that ended is started
 * again unless stopping is true; a waiter, only if it failed.
 */
bool	 sb_notify_reaped(pid_t pid, int status, bool stopping);

/* In the master: tells the listener to stop. */
void	 sb_notify_stop(void);

/* True while the program listens for ends of access but is not told. */
bool	 sb_notify_deaf(void);

/*
 * True if spec names a PostgreSQL store that libpq can read: one that
 * cannot be reached at start is waited for, not a reason to exit.
 */
bool	 sb_notify_spec_waitable(const char *spec);

/*
 * True if the PostgreSQL server of spec accepts a connection now: a
 * store that fails to open although it does (a schema newer than the
 * program, say) is no reason to wait.
 */
bool	 sb_notify_db_answers(const char *spec);

#endif
