#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "extern.h"

#define EX_CONFIG	78
#define EX_SOFTWARE	70
#define BACKLOG		1024
#define DRAIN_SECONDS	30	/* then remaining workers are killed */
#define PATH_MAX_LEN	2048
#define SLOTS		1024	/* workers alive at once, retiring ones too */
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct worker {
	pid_t	 pid;		/* 0: a free slot */
	int64_t	 started_ms;
	int	 quick_deaths;	/* deaths within a second of start, in a row */
	bool	 retiring;	/* runs an older config: not replaced */
};

static volatile sig_atomic_t	 got_term, got_chld, got_alarm, got_hup;
static struct sb_config		 config;
static const char		*cfgpath;	/* NULL: environment only */
static struct worker		 ws[SLOTS];

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGALRM)
		got_alarm = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void
handle_signals(const int *sigs, size_t n)
{
	struct sigaction sa;
	size_t		 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked accept(2) must return to see the flag. */
	for (i = 0; i < n; i++)
		sigaction(sigs[i], &sa, NULL);
}

static enum sb_method
method_of(const char *s)
{
	size_t	 i;

	if (s != NULL)
		for (i = 0; i < SB_OTHER; i++)
			if (strcmp(s, sb_method_names[i]) == 0)
				return (enum sb_method)i;
	return SB_OTHER;
}

/* Matches the request's path against the route; answers if none fits. */
static int
route_match(struct sb_req *req)
{
	const char	*uri, *q;
	size_t		 len, i;
	enum sb_err	 e, best = SB_ERR_NOT_FOUND;

	if ((uri = sb_req_param(req, "REQUEST_URI")) == NULL) {
		sb_reply_err(req, SB_ERR_NOT_FOUND, NULL);
		return -1;
	}
	len = (q = strchr(uri, '?')) != NULL ? (size_t)(q - uri) :
	    strnlen(uri, PATH_MAX_LEN + 1);
	if (len > PATH_MAX_LEN) {
		sb_reply_err(req, SB_ERR_NOT_FOUND, NULL);
		return -1;
	}
	for (i = 0; req->route->paths[i].pattern != NULL; i++) {
		e = sb_path_match(req->route->paths[i].pattern, uri, len, req->id,
		    &req->nids);
		if (e == SB_OK) {
			req->matched = true;
			req->pattern = i;
			return 0;
		}
		if (e == SB_ERR_BAD_ID)
			best = e;
	}
	sb_reply_err(req, best, NULL);
	return -1;
}

unsigned
sb_route_methods(const struct sb_route *route, size_t i)
{
	unsigned	 m = route->paths[i].methods;

	return (m & SB_M(SB_GET)) ? m | SB_M(SB_HEAD) : m;
}

/* A worker's state: one process, many requests. */
struct conn {
	int		 fd;
	struct conn	*prev, *next;
};

static struct {
	const struct sb_route	*route;
	int			 lfd;		/* the listening socket */
	size_t			 slot;		/* in the stats' in_flight */
	struct conn		*conns;		/* connections being served */
	size_t			 nconns;
	bool			 accepting;
	struct sb_timer		 pause;		/* after accept failed */
	volatile bool		 draining;
	uint32_t		 in_flight;	/* requests under way */
} wk;

/* The route's caller check; false once it has answered. */
static bool
caller_ok(struct sb_req *req)
{
	if ((req->route->flags & SB_ROUTE_COOKIE) && sb_cookie_ready(req) == -1)
		return false;
	switch (req->route->caller) {
	case SB_USER:
		return sb_auth_user(req, 0) == 0;
	case SB_USER_EXPIRED:
		return sb_auth_user(req, SB_JWT_ALLOW_EXPIRED) == 0;
	case SB_ADMIN:
		return sb_auth_admin(req) == 0;
	case SB_ANYONE:
		break;
	}
	return true;
}

static void
serve_one(struct sb_fcgi_req *fr, char **out, size_t *outlen, void *arg)
{
	const struct sb_route *route = arg;
	struct sb_req	 req;
	int		 cors;
	bool		 busy;

	memset(&req, 0, sizeof(req));
	req.fcgi = fr;
	req.route = route;
	req.start_ms = sb_now_ms();
	req.method = method_of(sb_req_param(&req, "REQUEST_METHOD"));
	req.head = req.method == SB_HEAD;
	sb_req_id(&req);
	sb_log_request_id(req.rid);
	sb_reply_header(&req, "X-Request-Id", req.rid);

	/* Past the bound, a clear answer at once rather than a queue. */
	if ((busy = wk.in_flight >= (uint32_t)sb_cfg->max_in_flight))
		sb_stats_add(SB_STAT_BUSY, 1);
	else
		sb_stats_in_flight(wk.slot, ++wk.in_flight);

	cors = !(route->flags & SB_ROUTE_NO_CORS);
	if (cors)
		sb_origin_cors(&req);
	if (busy)
		sb_reply_err(&req, SB_ERR_BUSY, NULL);
	else if (route_match(&req) == 0) {
		if ((route->flags & SB_ROUTE_ORIGIN) &&
		    sb_origin_check(&req) == -1)
			;	/* answered 403: nothing else is done */
		else if (cors && req.method == SB_OPTIONS)
			sb_origin_preflight(&req);
		else if (!(sb_route_methods(route, req.pattern) &
		    SB_M(req.method)))
			sb_reply_err(&req, SB_ERR_METHOD, NULL);
		else {
			/* The handler answers a HEAD as the GET it stands for. */
			if (req.head)
				req.method = SB_GET;
			if (caller_ok(&req) &&
			    sb_input_read(&req, &route->paths[req.pattern]) == 0)
				route->handle(&req);
			sb_input_free(&req, &route->paths[req.pattern]);
			if (req.head)
				req.method = SB_HEAD;
		}
	}
	if (req.status == 0) {
		sb_log(SB_LOG_ERR, "route left the request unanswered");
		sb_reply_err(&req, SB_ERR_INTERNAL, NULL);
	}
	sb_req_end(&req);
	if (!busy)
		sb_stats_in_flight(wk.slot, --wk.in_flight);
	sb_stats_request(req.method, req.status, sb_now_ms() - req.start_ms);
	sb_log_request(&req);
	sb_log_request_id(NULL);
	free(req.body);
	*out = req.out;
	*outlen = req.outlen;
}

/*
 * The most connections a worker serves at once: a connection costs a
 * task, whose stack is mapped but mostly never touched. Past it, the
 * other workers accept, or the listen queue holds them.
 */
static size_t
conns_max(void)
{
	return (size_t)sb_cfg->max_in_flight + 64;
}

static void	on_listen(int, unsigned, void *);
static void	accepting(bool);

static void
resume(void *arg)
{
	(void)arg;
	accepting(true);
}

static void
accepting(bool on)
{
	if (on && wk.nconns >= conns_max())
		return;
	if (on == wk.accepting || (on && wk.draining))
		return;
	if (sb_loop_watch(wk.lfd, on ? SB_EV_IN : 0, on_listen, NULL) == 0)
		wk.accepting = on;
}

static void
conn_task(void *arg)
{
	struct conn	*c = arg;

	sb_fcgi_serve(c->fd, (size_t)((wk.route->flags & SB_ROUTE_FILE_BODY) &&
	    sb_cfg->file_max_part > sb_cfg->max_body ? sb_cfg->file_max_part :
	    sb_cfg->max_body), serve_one,
	    (void *)wk.route, &wk.draining);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		wk.conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	wk.nconns--;
	accepting(true);
}

/*
 * Settles lost answers (sb_unsure.h) about once a second, in a task of
 * its own: never inside a user's request. Ends when the worker drains.
 */
static void
settler(void *arg)
{
	(void)arg;
	sb_task_set_label("settle");
	while (!wk.draining) {
		sb_unsure_pass();
		sb_loop_sleep(1000);
	}
}

static void
on_listen(int fd, unsigned ev, void *arg)
{
	struct conn	*c;
	int		 cfd;

	(void)ev;
	(void)arg;
	while (wk.nconns < conns_max()) {
		if ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Not again at once: in a moment. */
				sb_log(SB_LOG_WARN, "accept: %s; pausing",
				    strerror(errno));
				accepting(false);
				sb_loop_timer(&wk.pause, sb_now_ms() + 100,
				    resume, NULL);
			}
			break;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(cfd);
			break;
		}
		c->fd = cfd;
		if (sb_task_spawn(conn_task, c) == -1) {
			free(c);
			close(cfd);
			break;
		}
		if ((c->next = wk.conns) != NULL)
			wk.conns->prev = c;
		wk.conns = c;
		wk.nconns++;
	}
	if (wk.nconns >= conns_max())
		accepting(false);
}

/*
 * SIGTERM or SIGINT: no new connection is taken; the requests under way
 * finish (each bounded by the upstream timeout), connections that wait
 * for a next request close, and the worker ends once none is left.
 */
static void
on_term(int fd, unsigned ev, void *arg)
{
	struct signalfd_siginfo si;
	struct conn	*c;

	(void)ev;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		continue;
	if (wk.draining)
		return;
	accepting(false);
	wk.draining = true;
	sb_log(SB_LOG_INFO, "draining: %u requests in flight finish, then "
	    "the worker stops", (unsigned)wk.in_flight);
	for (c = wk.conns; c != NULL; c = c->next)
		sb_loop_wake_fd(c->fd);
}

static _Noreturn void
worker_main(int fd, const struct sb_route *route, pid_t master, size_t slot)
{
	sigset_t	 term;
	int		 sfd;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != master)
		_exit(0);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	/* SIGTERM and SIGINT come as events of the loop, never mid-request. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_SETMASK, &term, NULL);

	memset(&wk, 0, sizeof(wk));
	wk.route = route;
	wk.lfd = fd;
	wk.slot = slot;
	sb_req_id_seed();
	if (sb_loop_init() == -1 ||
	    (sfd = signalfd(-1, &term, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    sb_loop_watch(sfd, SB_EV_IN, on_term, NULL) == -1 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		sb_log(SB_LOG_ERR, "worker: event loop set-up failed: %s",
		    strerror(errno));
		_exit(1);
	}
	if (sb_upstream_init() == -1)
		sb_log(SB_LOG_ERR, "upstream client: set-up failed");
	accepting(true);
	if ((route->flags & SB_ROUTE_SETTLE) && sb_task_spawn(settler,
	    NULL) == -1)
		sb_log(SB_LOG_ERR, "worker: the settling task could not start");
	while (!wk.draining || wk.nconns > 0 || sb_task_count() > 0)
		sb_loop_once(-1);
	sb_upstream_cleanup();
	sb_db_release();
	sb_task_cleanup();
	sb_loop_forget(sfd);
	close(sfd);
	sb_loop_free();
	sb_config_free(&config);
	curl_global_cleanup();
	exit(0);
}

static pid_t
spawn(struct worker *w, int fd, const struct sb_route *route)
{
	pid_t	 master = getpid();

	switch ((w->pid = fork())) {
	case -1:
		w->pid = 0;
		sb_log(SB_LOG_ERR, "fork: %s", strerror(errno));
		return -1;
	case 0:
		worker_main(fd, route, master, (size_t)(w - ws));
		/* NOTREACHED */
	default:
		w->started_ms = sb_now_ms();
		w->retiring = false;
		return w->pid;
	}
}

/* Workers alive, and how many of them run an older config. */
static long
alive(long *retiring)
{
	long	 n = 0, r = 0;
	size_t	 i;

	for (i = 0; i < SLOTS; i++)
		if (ws[i].pid > 0) {
			n++;
			r += ws[i].retiring;
		}
	if (retiring != NULL)
		*retiring = r;
	return n;
}

/*
 * Reaps dead workers. One that ran the current config is replaced unless
 * the program drains; one that ran an older config is not.
 */
static void
reap(int fd, const struct sb_route *route)
{
	pid_t	 pid;
	int	 st;
	long	 retiring;
	size_t	 i;
	bool	 retired = false;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (sb_notify_reaped(pid, st, got_term))
			continue;
		for (i = 0; i < SLOTS && ws[i].pid != pid; i++)
			continue;
		if (i == SLOTS)
			continue;
		ws[i].pid = 0;
		sb_stats_in_flight(i, 0);
		if (ws[i].retiring) {
			retired = true;
			continue;
		}
		if (got_term)
			continue;
		if (WIFSIGNALED(st))
			sb_log(SB_LOG_ERR, "worker %d killed by signal %d; "
			    "restarting", (int)pid, WTERMSIG(st));
		else
			sb_log(SB_LOG_ERR, "worker %d exited with %d; "
			    "restarting", (int)pid, WEXITSTATUS(st));
		sb_stats_add(SB_STAT_RESTARTS, 1);
		/* A worker that keeps dying at start must not spin. */
		if (sb_now_ms() - ws[i].started_ms < 1000) {
			if (++ws[i].quick_deaths > 3)
				sleep(1);
		} else
			ws[i].quick_deaths = 0;
		spawn(&ws[i], fd, route);
	}
	sb_stats_set(SB_STAT_WORKERS, (uint64_t)alive(&retiring));
	if (retired && retiring == 0 && !got_term)
		sb_log(SB_LOG_INFO, "reload complete: every worker runs the "
		    "new config");
}

/* Starts sb_cfg->workers workers in free slots. Returns how many. */
static long
spawn_all(int fd, const struct sb_route *route)
{
	long	 n = 0;
	size_t	 i;

	for (i = 0; i < SLOTS && n < sb_cfg->workers; i++)
		if (ws[i].pid == 0) {
			ws[i].quick_deaths = 0;
			if (spawn(&ws[i], fd, route) > 0)
				n++;
		}
	sb_stats_set(SB_STAT_WORKERS, (uint64_t)alive(NULL));
	return n;
}

/*
 * Warns of what cfg holds that the backend does not need, by key name,
 * never by value.
 */
static void
config_warnings(const struct sb_config *cfg)
{
	if (cfg->sign_key_set)
		sb_log(SB_LOG_WARN, "config: SENTC_JWT_SIGN_KEY is set, but the "
		    "backend only verifies tokens and never uses the app's "
		    "signing key: remove it from this host's config and "
		    "environment (a copy here is a risk)");
}

/*
 * Checks that the database of cfg opens (and migrates), for a route
 * that uses it. Returns 0, or -1 with the reason in err.
 */
static int
db_check(const struct sb_config *cfg, const struct sb_route *route,
    char *err, size_t errlen)
{
	struct sb_db	*db;
	char		 why[480], shown[256];

	if (!(route->flags & SB_ROUTE_DB))
		return 0;
	if (sb_db_open(cfg->db, &db, why, sizeof(why)) != SB_OK) {
		/* A PostgreSQL URI is shown without its password. */
		sb_db_spec_display(cfg->db, shown, sizeof(shown));
		snprintf(err, errlen, "SENTC_BACKEND_DB %s: %s", shown, why);
		return -1;
	}
	sb_db_close(db);
	return 0;
}

/*
 * db_check() as the user the program is to become: in a child that
 * becomes that user first, when runas changes the user, so that a
 * database file is made by the user who is to write it. Returns 0, or -1
 * once the reason is logged.
 */
static int
db_check_as(const struct sb_runas *runas, const struct sb_route *route)
{
	char	 err[768];
	pid_t	 pid;
	int	 st;

	if (!runas->change) {
		if (db_check(&config, route, err, sizeof(err)) == 0)
			return 0;
		sb_log(SB_LOG_ERR, "config: %s", err);
		return -1;
	}
	if ((pid = fork()) == -1) {
		sb_log(SB_LOG_ERR, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (sb_runas_become(runas, err, sizeof(err)) == -1 ||
		    db_check(&config, route, err, sizeof(err)) == -1) {
			sb_log(SB_LOG_ERR, "config: %s", err);
			_exit(1);
		}
		_exit(0);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/*
 * SIGHUP: reads the config again. If it loads and checks, new workers
 * start with it, and the workers of the old one finish the request at
 * hand and exit: the socket stays open throughout, so no request is
 * refused or dropped. The caches are made anew, so that nothing verified
 * or learnt under the old config (a JWT key since removed, say) is
 * taken for true under the new one. If it does not load, the program
 * keeps serving with the old one and logs why.
 */
static void
reload(int fd, const struct sb_route *route)
{
	struct sb_config next;
	char		 err[768];
	long		 old = 0, n, i;
	int		 rc;

	sb_log(SB_LOG_INFO, "SIGHUP: reading the config again");
	rc = sb_config_load(&next, cfgpath, err, sizeof(err));
	if (rc == 0 && strcmp(next.socket_dir, config.socket_dir) != 0) {
		snprintf(err, sizeof(err), "SENTC_BACKEND_SOCKET_DIR changes "
		    "only with a restart");
		rc = -1;
	}
	if (rc == 0 && strcmp(next.user, config.user) != 0) {
		snprintf(err, sizeof(err), "SENTC_BACKEND_USER changes only "
		    "with a restart");
		rc = -1;
	}
	if (rc == 0 && (rc = db_check(&next, route, err, sizeof(err))) == -1 &&
	    sb_notify_spec_waitable(next.db) &&
	    !sb_notify_db_answers(next.db)) {
		/* A PostgreSQL server that is down is waited for. */
		sb_log(SB_LOG_WARN, "reload: %s; reloading anyway: requests "
		    "that need the database get 503 until it answers", err);
		sb_notify_wait_db();
		rc = 0;
	}
	if (rc == 0 && alive(NULL) + next.workers > SLOTS) {
		snprintf(err, sizeof(err), "too many workers of earlier "
		    "configs are still finishing; try again");
		rc = -1;
	}
	if (rc == -1) {
		sb_log(SB_LOG_ERR, "reload: %s; still serving with the config "
		    "loaded before", err);
		sb_config_free(&next);
		sb_stats_add(SB_STAT_RELOAD_FAILS, 1);
		return;
	}

	sb_config_free(&config);
	config = next;
	sb_log_json(config.log_json);
	config_warnings(&config);
	if (sb_jwt_cache_init() == -1 || sb_access_init() == -1 ||
	    sb_upstream_probe_init() == -1 || sb_keycheck_init() == -1 ||
	    sb_notify_init(route->flags & SB_ROUTE_ACCESS) == -1)
		sb_log(SB_LOG_ERR, "reload: out of memory for the caches: "
		    "they are off until a restart");
	/* The listener drops entries from the caches just made. */
	sb_notify_start();
	for (i = 0; i < SLOTS; i++)
		if (ws[i].pid > 0) {
			ws[i].retiring = true;
			old++;
		}
	n = spawn_all(fd, route);
	for (i = 0; i < SLOTS; i++)
		if (ws[i].pid > 0 && ws[i].retiring)
			kill(ws[i].pid, SIGTERM);
	sb_stats_add(SB_STAT_RELOADS, 1);
	sb_log(SB_LOG_INFO, "config reloaded: %ld new workers; %ld old ones "
	    "finish their requests and exit", n, old);
	if (old == 0)
		sb_log(SB_LOG_INFO, "reload complete: every worker runs the "
		    "new config");
}

static int
supervise(int fd, const struct sb_route *route)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGCHLD, SIGALRM, SIGHUP };
	sigset_t	 block, old;
	size_t		 i;

	sigemptyset(&block);
	for (i = 0; i < NELEM(sigs); i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	handle_signals(sigs, NELEM(sigs));
	signal(SIGPIPE, SIG_IGN);

	sb_log(SB_LOG_INFO, "serving with %ld workers",
	    spawn_all(fd, route));
	sb_notify_start();
	while (!got_term) {
		sigsuspend(&old);
		if (got_chld) {
			got_chld = 0;
			reap(fd, route);
		}
		if (got_hup && !got_term) {
			got_hup = 0;
			reload(fd, route);
		}
	}

	/* Drain: workers finish the request at hand, then exit. */
	sb_notify_stop();
	for (i = 0; i < SLOTS; i++)
		if (ws[i].pid > 0)
			kill(ws[i].pid, SIGTERM);
	alarm(DRAIN_SECONDS);
	for (;;) {
		reap(fd, route);
		if (alive(NULL) == 0 || got_alarm)
			break;
		sigsuspend(&old);
	}
	for (i = 0; i < SLOTS; i++)
		if (ws[i].pid > 0)
			kill(ws[i].pid, SIGKILL);
	sb_stats_set(SB_STAT_WORKERS, 0);
	return 0;
}

static bool
listening(int fd)
{
	int		 on = 0;
	socklen_t	 len = sizeof(on);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

/*
 * The socket handed over by systemd (fd 3, with LISTEN_PID and
 * LISTEN_FDS) or by spawn-fcgi (standard input). Returns it, -1 if there
 * is none, or -2 if systemd's variables name an fd that is not one.
 */
static int
inherited_socket(void)
{
	const char	*pid, *fds;
	long		 p, n;

	if ((pid = getenv("LISTEN_PID")) != NULL &&
	    (fds = getenv("LISTEN_FDS")) != NULL &&
	    sb_parse_long(pid, 1, LONG_MAX, &p) == 0 && p == (long)getpid() &&
	    sb_parse_long(fds, 1, 1024, &n) == 0) {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		return listening(3) ? 3 : -2;
	}
	return listening(0) ? 0 : -1;
}

/*
 * True if something accepts connections on the unix socket at sun (a
 * program that serves there).
 */
static bool
unix_accepts(const struct sockaddr_un *sun)
{
	int	 fd;
	bool	 up;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	up = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return up;
}

/*
 * Binds and listens on the unix socket path with mode. Returns the fd,
 * or -1 once the reason is logged: also if a program already serves on
 * path, which is left to it.
 */
static int
bind_unix(const char *path, mode_t mode)
{
	struct sockaddr_un sun;
	struct stat	 st;
	int		 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		sb_log(SB_LOG_ERR, "socket path too long: %s", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/*
	 * A stale socket from an earlier run is replaced; one that a
	 * program still accepts on is not taken from it, nor anything else.
	 */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		if (unix_accepts(&sun)) {
			sb_log(SB_LOG_ERR, "socket %s: another program serves "
			    "on it; stop that one first, or give this one "
			    "another socket", path);
			return -1;
		}
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, mode) == -1 || listen(fd, BACKLOG) == -1) {
		sb_log(SB_LOG_ERR, "socket %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static int
bind_tcp(const char *spec)
{
	struct addrinfo	 hints, *res = NULL;
	char		 host[256];
	const char	*colon = strrchr(spec, ':');
	int		 fd = -1, on = 1;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
		return -1;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res) != 0 ||
	    (fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, BACKLOG) == -1) {
		sb_log(SB_LOG_ERR, "socket %s: %s", spec, strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	if (res != NULL)
		freeaddrinfo(res);
	return fd;
}

size_t
sb_program_list(const char *p, char names[][SB_NAME_MAX + 1], size_t max)
{
	const char	*name;
	size_t		 len, n = 0;

	while (n < max) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		for (name = p; *p != '\0' && *p != ' '; p++)
			continue;
		if ((len = (size_t)(p - name)) > SB_NAME_MAX)
			continue;
		memcpy(names[n], name, len);
		names[n++][len] = '\0';
	}
	return n;
}

bool
sb_program_up(const char *name)
{
	struct sockaddr_un sun;
	int		 n;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.sock",
	    sb_cfg->socket_dir, name);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		return false;
	return unix_accepts(&sun);
}

static void
usage(const char *name)
{
	fprintf(stderr, "usage: %s [-rt] [-c config] [-s socket] [-m mode]\n",
	    name);
}

/*
 * -r: the route's table on standard output, a path a line: the program,
 * the pattern, its methods (HEAD wherever GET), those with a JSON body,
 * and the route's flags, tab-separated; "-" for none.
 */
/* The names of set's members among names[0..n), comma-separated, or "-". */
static void
print_set(unsigned set, const char *const *names, size_t n, int end)
{
	const char	*sep = "";
	size_t		 k;

	for (k = 0; k < n; k++)
		if (set & (1u << k)) {
			printf("%s%s", sep, names[k]);
			sep = ",";
		}
	printf("%s%c", *sep == '\0' ? "-" : "", end);
}

static int
print_table(const struct sb_route *route)
{
	static const char *const flags[] = { "db", "no-cors", "origin",
				    "secret", "settle", "cookie", "file-body",
				    "access" };
	const struct sb_path	*p;
	size_t			 i;

	for (i = 0; (p = &route->paths[i])->pattern != NULL; i++) {
		printf("%s\t%s\t", route->name, p->pattern);
		print_set(sb_route_methods(route, i), sb_method_names,
		    SB_METHOD__MAX, '\t');
		print_set(p->body, sb_method_names, SB_METHOD__MAX, '\t');
		print_set(route->flags, flags, sizeof(flags) /
		    sizeof(flags[0]), '\n');
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

/*
 * The route's table as the serve loop needs it: at least one path, at
 * most SB_PATTERNS_MAX, each with at most SB_INPUTS_MAX inputs, a body
 * only for methods it takes, a kind for each input. Returns 0, or -1
 * with the flaw in err.
 */
static int
table_check(const struct sb_route *route, char *err, size_t errlen)
{
	const struct sb_path	*p;
	const struct sb_input	*in;
	size_t			 i, n;

	if (route->handle == NULL || route->paths[0].pattern == NULL) {
		snprintf(err, errlen, "no handler, or no path");
		return -1;
	}
	for (i = 0; (p = &route->paths[i])->pattern != NULL; i++) {
		if (i == SB_PATTERNS_MAX || (p->body & ~p->methods) != 0) {
			snprintf(err, errlen, "%s: too many paths, or a body for "
			    "a method the path does not take", p->pattern);
			return -1;
		}
		for (n = 0; p->in != NULL && (in = &p->in[n])->name != NULL;
		    n++)
			if (n == SB_INPUTS_MAX || (in->kind == SB_ONE_OF &&
			    in->words == NULL) || (in->kind == SB_CUSTOM &&
			    in->valid == NULL) || (in->where == SB_QUERY &&
			    in->kind != SB_TEXT && in->kind != SB_UUID &&
			    in->kind != SB_INT && in->kind != SB_WORD &&
			    in->kind != SB_ONE_OF && in->kind != SB_HASH &&
			    in->kind != SB_CUSTOM)) {
				snprintf(err, errlen, "%s: input %zu: more than "
				    "%d inputs, or a kind without what it "
				    "needs", p->pattern, n, SB_INPUTS_MAX);
				return -1;
			}
	}
	return 0;
}

int
sb_main(int argc, char *argv[], const struct sb_route *route)
{
	const char	*sock = NULL;
	char		 err[768], path[512], *end;
	struct sb_runas	 runas;
	long		 mode = 0660;
	int		 c, fd, check = 0, bound = 0, rc = EX_CONFIG;
	bool		 db_down = false;

	sb_log_init(route->name);
	if (table_check(route, err, sizeof(err)) == -1) {
		sb_log(SB_LOG_ERR, "route table: %s", err);
		return EX_SOFTWARE;
	}
	/* A SIGHUP before the workers run must not end the program. */
	signal(SIGHUP, SIG_IGN);
	cfgpath = getenv("SENTC_CONFIG");
	while ((c = getopt(argc, argv, "c:s:m:rt")) != -1)
		switch (c) {
		case 'r':
			return print_table(route);
		case 'c':
			cfgpath = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'm':
			/* Octal digits only, 1 to 0777: nothing after them. */
			errno = 0;
			mode = strtol(optarg, &end, 8);
			if (optarg[0] < '0' || optarg[0] > '7' || errno != 0 ||
			    *end != '\0' || mode <= 0 || mode > 0777) {
				usage(argv[0]);
				return 2;
			}
			break;
		case 't':
			check = 1;
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	if (cfgpath != NULL && *cfgpath == '\0')
		cfgpath = NULL;

	if (sb_config_load(&config, cfgpath, err, sizeof(err)) == -1) {
		sb_log(SB_LOG_ERR, "config: %s", err);
		sb_config_free(&config);
		return EX_CONFIG;
	}
	sb_cfg = &config;
	sb_log_json(config.log_json);
	config_warnings(&config);
	if (sb_runas_resolve(config.user, !check, &runas, err,
	    sizeof(err)) == -1) {
		sb_log(SB_LOG_ERR, "config: %s", err);
		sb_config_free(&config);
		return EX_CONFIG;
	}
	if (check) {
		/* The database as the user who will open it. */
		if (sb_runas_become(&runas, err, sizeof(err)) == -1 ||
		    db_check(&config, route, err, sizeof(err)) == -1)
			sb_log(SB_LOG_ERR, "config: %s", err);
		else {
			sb_log(SB_LOG_INFO, "config is valid");
			rc = 0;
		}
		sb_config_free(&config);
		return rc;
	}

	/*
	 * The database first: a socket that accepts is one that serves. A
	 * PostgreSQL server that cannot be reached yet is waited for: the
	 * program serves (503 for what needs it, /backend/ready not ready)
	 * and its listener tries again with backoff, logging each try.
	 */
	if (db_check_as(&runas, route) == -1) {
		if (!(route->flags & SB_ROUTE_DB) ||
		    !sb_notify_spec_waitable(config.db) ||
		    sb_notify_db_answers(config.db)) {
			sb_config_free(&config);
			return EX_CONFIG;
		}
		sb_log(SB_LOG_WARN, "database: not reachable at start; serving "
		    "anyway, and trying again with backoff");
		db_down = true;
	}

	/* What needs root: the socket, the metrics file. */
	if ((fd = inherited_socket()) == -2) {
		sb_log(SB_LOG_ERR, "LISTEN_FDS: fd 3 is not a listening socket");
		sb_config_free(&config);
		return 1;
	}
	if (fd == -1) {
		if (sock == NULL) {
			snprintf(path, sizeof(path), "%s/%s.sock",
			    config.socket_dir, route->name);
			sock = path;
		}
		fd = strchr(sock, '/') == NULL && strchr(sock, ':') != NULL ?
		    bind_tcp(sock) : bind_unix(sock, (mode_t)mode);
		if (fd == -1) {
			sb_config_free(&config);
			return 1;
		}
		bound = sock[0] == '/' || strchr(sock, ':') == NULL;
		if (bound && runas.change &&
		    chown(sock, runas.uid, runas.gid) == -1) {
			sb_log(SB_LOG_ERR, "socket %s: %s", sock,
			    strerror(errno));
			rc = 1;
			goto out;
		}
	}
	if (sb_stats_open(config.socket_dir, route->name, runas.uid,
	    runas.gid) == -1) {
		sb_log(SB_LOG_ERR, "metrics: out of memory");
		rc = 1;
		goto out;
	}

	/* From here on, as the user the config names. */
	if (sb_runas_become(&runas, err, sizeof(err)) == -1) {
		sb_log(SB_LOG_ERR, "%s", err);
		rc = 1;
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    sb_jwt_cache_init() == -1 ||
	    sb_access_init() == -1 || sb_upstream_probe_init() == -1 ||
	    sb_keycheck_init() == -1 ||
	    sb_notify_init(route->flags & SB_ROUTE_ACCESS) == -1) {
		sb_log(SB_LOG_ERR, "library set-up failed");
		rc = 1;
		goto out;
	}
	if (db_down)
		sb_notify_wait_db();
	rc = supervise(fd, route);
	sb_log(SB_LOG_INFO, "stopped");
	curl_global_cleanup();
out:
	if (bound)
		unlink(sock);
	sb_config_free(&config);
	return rc;
}
