#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sb_access.h"
#include "sb_config.h"
#include "sb_conn.h"
#include "sb_db.h"
#include "sb_log.h"
#include "sb_origin.h"
#include "sb_response.h"
#include "sb_serve.h"
#include "sb_upstream.h"

#define EX_CONFIG	78
#define BACKLOG		1024
#define DRAIN_SECONDS	30	/* then remaining workers are killed */
#define PATH_MAX_LEN	2048

struct worker {
	pid_t	 pid;
	int64_t	 started_ms;
	int	 quick_deaths;	/* deaths within a second of start, in a row */
};

static volatile sig_atomic_t	 got_term, got_chld, got_alarm;
static struct sb_config		 config;

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGALRM)
		got_alarm = 1;
	else {
		got_term = 1;
		FCGX_ShutdownPending();
	}
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
			req->pattern = i;
			return 0;
		}
		if (e == SB_ERR_BAD_ID)
			best = e;
	}
	sb_reply_err(req, best, NULL);
	return -1;
}

static void
serve_one(FCGX_Request *fr, const struct sb_route *route)
{
	struct sb_req	 req;
	int		 cors;

	memset(&req, 0, sizeof(req));
	req.fcgi = fr;
	req.route = route;
	req.start_ms = sb_now_ms();
	req.method = method_of(sb_req_param(&req, "REQUEST_METHOD"));

	cors = !(route->flags & SB_ROUTE_NO_CORS);
	if (cors)
		sb_origin_cors(&req);
	if (route_match(&req) == 0) {
		if ((route->flags & SB_ROUTE_ORIGIN) &&
		    sb_origin_check(&req) == -1)
			;	/* answered 403: nothing else is done */
		else if (cors && req.method == SB_OPTIONS)
			sb_origin_preflight(&req);
		else if (!(route->paths[req.pattern].methods & SB_M(req.method)))
			sb_reply_err(&req, SB_ERR_METHOD, NULL);
		else
			route->handle(&req);
	}
	if (req.status == 0) {
		sb_log(SB_LOG_ERR, "route left the request unanswered");
		sb_reply_err(&req, SB_ERR_INTERNAL, NULL);
	}
	sb_log_request(&req);
	free(req.body);
}

static _Noreturn void
worker_main(int fd, const struct sb_route *route, pid_t master)
{
	static const int sigs[] = { SIGTERM, SIGINT };
	struct sb_conns	*conns;
	FCGX_Request	*fr;
	sigset_t	 none, term;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != master)
		_exit(0);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	handle_signals(sigs, 2);
	/*
	 * SIGTERM and SIGINT arrive only while the worker waits for a
	 * request: one that came just before the wait cannot be missed, and
	 * the request at hand is always finished.
	 */
	sigemptyset(&none);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_SETMASK, &term, NULL);

	if (sb_upstream_init() == -1)
		sb_log(SB_LOG_ERR, "upstream client: set-up failed");
	if ((conns = sb_conns_new(fd)) == NULL)
		_exit(1);
	while ((fr = sb_conns_next(conns, &got_term, &none)) != NULL) {
		serve_one(fr, route);
		sb_conns_done(conns, fr);
	}
	sb_conns_free(conns);
	sb_upstream_cleanup();
	sb_db_release();
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
		sb_log(SB_LOG_ERR, "fork: %s", strerror(errno));
		return -1;
	case 0:
		worker_main(fd, route, master);
		/* NOTREACHED */
	default:
		w->started_ms = sb_now_ms();
		return w->pid;
	}
}

/* Reaps dead workers and, unless draining, starts their replacements. */
static void
reap(struct worker *ws, long n, int fd, const struct sb_route *route)
{
	pid_t	 pid;
	int	 st;
	long	 i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < n && ws[i].pid != pid; i++)
			continue;
		if (i == n)
			continue;
		ws[i].pid = 0;
		if (got_term)
			continue;
		if (WIFSIGNALED(st))
			sb_log(SB_LOG_ERR, "worker %d killed by signal %d; "
			    "restarting", (int)pid, WTERMSIG(st));
		else
			sb_log(SB_LOG_ERR, "worker %d exited with %d; "
			    "restarting", (int)pid, WEXITSTATUS(st));
		/* A worker that keeps dying at start must not spin. */
		if (sb_now_ms() - ws[i].started_ms < 1000) {
			if (++ws[i].quick_deaths > 3)
				sleep(1);
		} else
			ws[i].quick_deaths = 0;
		spawn(&ws[i], fd, route);
	}
}

static int
supervise(int fd, const struct sb_route *route)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGCHLD, SIGALRM };
	struct worker	*ws;
	sigset_t	 block, old;
	long		 i, n = sb_cfg->workers, alive;

	if ((ws = calloc((size_t)n, sizeof(*ws))) == NULL)
		return 1;
	sigemptyset(&block);
	for (i = 0; i < 4; i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	handle_signals(sigs, 4);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < n; i++)
		spawn(&ws[i], fd, route);
	sb_log(SB_LOG_INFO, "serving with %ld workers", n);
	while (!got_term) {
		sigsuspend(&old);
		if (got_chld) {
			got_chld = 0;
			reap(ws, n, fd, route);
		}
	}

	/* Drain: workers finish the request at hand, then exit. */
	for (i = 0; i < n; i++)
		if (ws[i].pid > 0)
			kill(ws[i].pid, SIGTERM);
	alarm(DRAIN_SECONDS);
	for (;;) {
		reap(ws, n, fd, route);
		for (alive = 0, i = 0; i < n; i++)
			alive += ws[i].pid > 0;
		if (alive == 0 || got_alarm)
			break;
		sigsuspend(&old);
	}
	for (i = 0; i < n; i++)
		if (ws[i].pid > 0)
			kill(ws[i].pid, SIGKILL);
	free(ws);
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
	/* A stale socket from an earlier run is replaced; nothing else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
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

static void
usage(const char *name)
{
	fprintf(stderr, "usage: %s [-t] [-c config] [-s socket] [-m mode]\n",
	    name);
}

int
sb_main(int argc, char *argv[], const struct sb_route *route)
{
	const char	*cfgpath = getenv("SENTC_CONFIG"), *sock = NULL;
	char		 err[512], path[512];
	struct sb_db	*db;
	long		 mode = 0660;
	int		 c, fd, check = 0, bound = 0, rc;

	sb_log_init(route->name);
	while ((c = getopt(argc, argv, "c:s:m:t")) != -1)
		switch (c) {
		case 'c':
			cfgpath = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'm':
			mode = strtol(optarg, NULL, 8);
			if (mode <= 0 || mode > 0777) {
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
	if (route->flags & SB_ROUTE_DB) {
		if (sb_db_open(config.db, &db, err, sizeof(err)) != SB_OK) {
			sb_db_spec_display(config.db, path, sizeof(path));
			sb_log(SB_LOG_ERR, "config: SENTC_BACKEND_DB %s: %s",
			    path, err);
			sb_config_free(&config);
			return EX_CONFIG;
		}
		sb_db_close(db);
	}
	if (check) {
		sb_log(SB_LOG_INFO, "config is valid");
		sb_config_free(&config);
		return 0;
	}

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
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    FCGX_Init() != 0 || sb_jwt_cache_init() == -1 ||
	    sb_access_init() == -1) {
		sb_log(SB_LOG_ERR, "library set-up failed");
		return 1;
	}
	rc = supervise(fd, route);
	if (bound)
		unlink(sock);
	sb_log(SB_LOG_INFO, "stopped");
	curl_global_cleanup();
	sb_config_free(&config);
	return rc;
}
