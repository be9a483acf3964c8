/*
 * sb_serve.h: a route program's main loop.
 *
 * A route is a table: its name, its path patterns, its methods and its
 * handler. sb_main() loads the config, binds or inherits the FastCGI
 * socket, forks the workers, restarts one that dies and drains on
 * SIGTERM. Each worker answers one request at a time: it matches the path
 * and method, calls the handler, and logs one line. A HEAD reaches the
 * handler of a GET as that GET; the answer goes out without its body.
 */
#ifndef SB_SERVE_H
#define SB_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#include "sb_request.h"

#define SB_PATTERNS_MAX	8

/*
 * Flags of a route. Every route answers CORS preflights and adds CORS
 * headers for the origins in SENTC_BACKEND_ALLOWED_ORIGINS unless it is
 * SB_ROUTE_NO_CORS (routes no browser may call, such as admin routes).
 */
#define SB_ROUTE_DB	0x01	/* uses the database: checked at start-up */
#define SB_ROUTE_NO_CORS 0x02	/* no CORS: OPTIONS is a 405 like any other */
#define SB_ROUTE_ORIGIN	0x04	/* an Origin not listed is refused (403) */
#define SB_ROUTE_ACCESS	0x08	/* caches group access: on PostgreSQL, */
				/* listens for its ends (sb_notify.h) */

/* A path pattern ("{id}" segments are UUIDs) and the methods it takes. */
struct sb_path {
	const char	*pattern;
	unsigned	 methods;	/* SB_M(SB_POST) | ... */
};

struct sb_route {
	const char	*name;		/* program name: log, socket file */
	struct sb_path	 paths[SB_PATTERNS_MAX + 1];	/* ends with { NULL } */
	unsigned	 flags;
	/* Answers the request; anything it leaves unanswered is a 500. */
	void		(*handle)(struct sb_req *);
};

/*
 * The methods that path pattern i of route takes: its own, and HEAD
 * wherever it takes GET (a HEAD is answered as the GET, without the
 * body).
 */
unsigned sb_route_methods(const struct sb_route *, size_t i);

/* The longest program name, and the most programs one list may hold. */
#define SB_NAME_MAX	63
#define SB_PROGRAMS_MAX	64

/*
 * Splits list, names separated by spaces (such as SB_PROGRAMS, the names
 * of the programs that the Makefile builds), into names. Returns how
 * many, at most max; a longer name is skipped.
 */
size_t	 sb_program_list(const char *list, char names[][SB_NAME_MAX + 1],
	    size_t max);

/*
 * True if something accepts connections on the socket of the program
 * name, SENTC_BACKEND_SOCKET_DIR/name.sock.
 */
bool	 sb_program_up(const char *name);

/*
 * Runs the program: options -c config file (default $SENTC_CONFIG),
 * -s socket (a path, or host:port; default SOCKET_DIR/NAME.sock) unless
 * one is inherited from systemd or spawn-fcgi, -m socket mode (octal,
 * default 0660), -t to check the config and exit. Returns the exit
 * status for main().
 */
int	 sb_main(int argc, char *argv[], const struct sb_route *);

#endif
