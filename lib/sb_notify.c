/*
 * The listener of a program (sb_notify.h): one process, one connection,
 * blocking libpq calls (it serves no request, so nothing waits on it).
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "extern.h"

#define IDLE_PING_MS	5000	/* an idle connection is checked this often */
#define BACKOFF_MAX_S	30

struct shared {
	int	 deaf;		/* atomically; 1 until the listener listens */
};

static struct shared	*sh;		/* shared by the master and its children */
static bool		 enabled;	/* this program listens */
static bool		 wait_db;	/* the store did not answer at start */
static pid_t		 current, retired[8];
static bool		 waiting;	/* current is a waiter, not a listener */
static volatile sig_atomic_t stop_now;

bool
sb_notify_spec_waitable(const char *spec)
{
	PQconninfoOption	*opts;
	char			*msg = NULL;

	if (spec == NULL || !sb_db_spec_is_pg(spec))
		return false;
	opts = PQconninfoParse(spec, &msg);
	PQfreemem(msg);
	if (opts == NULL)
		return false;
	PQconninfoFree(opts);
	return true;
}

bool
sb_notify_db_answers(const char *spec)
{
	static const char *const kw[] = { "fallback_application_name",
	    "connect_timeout", "dbname", NULL };
	const char	*val[] = { SB_NOTIFY_APP_NAME, "5", spec, NULL };
	PGconn		*c;
	bool		 ok;

	c = PQconnectdbParams(kw, val, 1);
	ok = c != NULL && PQstatus(c) == CONNECTION_OK;
	PQfinish(c);
	return ok;
}

int
sb_notify_init(bool caches)
{
	enabled = caches && sb_cfg->access_cache_ttl > 0 &&
	    sb_notify_spec_waitable(sb_cfg->db);
	if (sh == NULL) {
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (sh == MAP_FAILED) {
			sh = NULL;
			return -1;
		}
	}
	__atomic_store_n(&sh->deaf, enabled ? 1 : 0, __ATOMIC_SEQ_CST);
	return 0;
}

bool
sb_notify_deaf(void)
{
	return sh != NULL && __atomic_load_n(&sh->deaf, __ATOMIC_SEQ_CST);
}

static void
set_deaf(bool deaf)
{
	if (sh != NULL)
		__atomic_store_n(&sh->deaf, deaf ? 1 : 0, __ATOMIC_SEQ_CST);
}

/* The connection's error, on one line, without the password. */
static void
why(PGconn *c, char *buf, size_t len)
{
	const char	*pass;
	char		*p;
	size_t		 i, n;

	snprintf(buf, len, "%s", c != NULL ? PQerrorMessage(c) :
	    "out of memory");
	if (c != NULL && (pass = PQpass(c)) != NULL && (n = strlen(pass)) > 0)
		while ((p = strstr(buf, pass)) != NULL)
			memset(p, '*', n);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '\n' || buf[i] == '\t')
			buf[i] = ' ';
	while (i > 0 && buf[i - 1] == ' ')
		buf[--i] = '\0';
}

static void
on_term(int sig)
{
	(void)sig;
	stop_now = 1;
}

/* Sleeps s seconds, or less if told to stop. */
static void
nap(int s)
{
	struct timespec	 ts = { s, 0 };

	while (!stop_now && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/* The server's notices: the loss they may tell of is logged apart. */
static void
quiet(void *arg, const PGresult *res)
{
	(void)arg;
	(void)res;
}

static PGconn *
connect_db(void)
{
	/* Defaults first: the store's connection string overrides them. */
	static const char *const kw[] = { "fallback_application_name",
	    "connect_timeout", "tcp_user_timeout", "keepalives_idle",
	    "keepalives_interval", "keepalives_count", "dbname", NULL };
	const char	*val[] = { SB_NOTIFY_APP_NAME, "5", "15000", "10", "5",
			    "3", sb_cfg->db, NULL };

	PGconn		*c;

	if ((c = PQconnectdbParams(kw, val, 1)) != NULL)
		PQsetNoticeReceiver(c, quiet, NULL);
	return c;
}

/* An id as the store sends it: letters, digits, '-', '_'; 1 to 64. */
static bool
is_id(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= 64 || !((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return false;
	return i > 0;
}

/* Serves one connection until it is lost or the listener stops. */
static void
listen_on(PGconn *c)
{
	struct pollfd	 pfd;
	PGnotify	*n;
	PGresult	*res;
	char		 err[512];
	size_t		 dropped;
	int		 rc;

	for (;;) {
		pfd.fd = PQsocket(c);
		pfd.events = POLLIN;
		rc = poll(&pfd, 1, IDLE_PING_MS);
		if (stop_now)
			return;
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == 0) {
			/* Quiet: is the server still there? */
			res = PQexec(c, "SELECT 1");
			rc = PQresultStatus(res) == PGRES_TUPLES_OK;
			PQclear(res);
			if (!rc)
				break;
		} else if (rc == -1 || !PQconsumeInput(c))
			break;
		while ((n = PQnotifies(c)) != NULL) {
			/* Ids only: a group's, a user's. */
			if (is_id(n->extra) &&
			    (dropped = sb_access_drop(n->extra)) > 0)
				sb_log(SB_LOG_INFO, "invalidation: %zu cached "
				    "access answers naming %.64s dropped", dropped,
				    n->extra);
			PQfreemem(n);
		}
		if (PQstatus(c) != CONNECTION_OK)
			break;
	}
	set_deaf(true);
	why(c, err, sizeof(err));
	sb_log(SB_LOG_WARN, "invalidation: the listening connection was lost "
	    "(%s); cached access answers are not used until it is back", err);
}

void
sb_notify_wait_db(void)
{
	wait_db = true;
}

/* Logs a failed try, and sleeps for the backoff (which then grows). */
static void
failed_try(PGconn *c, long tries, int *backoff)
{
	char	 err[512];

	why(c, err, sizeof(err));
	sb_log(SB_LOG_WARN, "database: cannot be reached (%s); try %ld, "
	    "next in %d s; meanwhile requests that need it get 503%s", err,
	    tries, *backoff, enabled ? " and cached access answers are not "
	    "used" : "");
	nap(*backoff);
	*backoff = *backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : *backoff * 2;
}

static void
child_signals(pid_t master)
{
	struct sigaction sa;
	sigset_t	 none;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != master)
		_exit(0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * A program that does not listen, whose store did not answer at start:
 * tries again with backoff, logging each try, until it answers once.
 * The workers open their own connections as requests need them.
 */
static _Noreturn void
waiter_main(pid_t master)
{
	PGconn		*c;
	long		 tries = 0;
	int		 backoff = 1;

	child_signals(master);
	while (!stop_now) {
		tries++;
		c = connect_db();
		if (c != NULL && PQstatus(c) == CONNECTION_OK) {
			PQfinish(c);
			sb_log(SB_LOG_INFO, "database: reachable (try %ld)",
			    tries);
			_exit(0);
		}
		failed_try(c, tries, &backoff);
		PQfinish(c);
	}
	_exit(0);
}

static _Noreturn void
listener_main(pid_t master)
{
	PGconn		*c;
	PGresult	*res;
	long		 tries = 0;
	int		 backoff = 1;

	child_signals(master);
	while (!stop_now) {
		set_deaf(true);
		tries++;
		c = connect_db();
		if (c != NULL && PQstatus(c) == CONNECTION_OK) {
			res = PQexec(c, "LISTEN " SB_NOTIFY_CHANNEL);
			if (PQresultStatus(res) == PGRES_COMMAND_OK) {
				PQclear(res);
				/* What was cached may have ended meanwhile. */
				sb_access_drop_all();
				set_deaf(false);
				sb_log(SB_LOG_INFO, "invalidation: listening "
				    "(try %ld); cached access answers from "
				    "before dropped", tries);
				tries = 0;
				backoff = 1;
				listen_on(c);
				PQfinish(c);
				continue;
			}
			PQclear(res);
		}
		failed_try(c, tries, &backoff);
		PQfinish(c);
	}
	_exit(0);
}

int
sb_notify_start(void)
{
	pid_t	 master = getpid(), pid;
	size_t	 i;

	if (!enabled && !wait_db)
		return 0;
	if (current > 0) {
		kill(current, SIGTERM);
		for (i = 0; i < sizeof(retired) / sizeof(retired[0]); i++)
			if (retired[i] == 0) {
				retired[i] = current;
				break;
			}
		current = 0;
	}
	set_deaf(enabled);
	waiting = !enabled;
	wait_db = false;
	switch ((pid = fork())) {
	case -1:
		sb_log(SB_LOG_ERR, "invalidation: fork: %s", strerror(errno));
		return -1;
	case 0:
		if (waiting)
			waiter_main(master);
		listener_main(master);
		/* NOTREACHED */
	default:
		current = pid;
		return 0;
	}
}

bool
sb_notify_reaped(pid_t pid, int status, bool stopping)
{
	size_t	 i;

	for (i = 0; i < sizeof(retired) / sizeof(retired[0]); i++)
		if (retired[i] == pid && pid > 0) {
			retired[i] = 0;
			return true;
		}
	if (pid <= 0 || pid != current)
		return false;
	current = 0;
	set_deaf(enabled);
	if (waiting && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;	/* the store answered */
	if (!stopping) {
		sb_log(SB_LOG_ERR, "invalidation: the %s %d ended; starting "
		    "it again", waiting ? "waiter" : "listener", (int)pid);
		wait_db = waiting;
		/* One that keeps dying must not spin. */
		sleep(1);
		sb_notify_start();
	}
	return true;
}

void
sb_notify_stop(void)
{
	if (current > 0)
		kill(current, SIGTERM);
}
