/*
 * sb_log.h: log lines on stderr, one per event and one per request.
 *
 * Nothing here is given a token, cookie or key: callers pass only ids,
 * names and numbers.
 */
#ifndef SB_LOG_H
#define SB_LOG_H

#include "sb_request.h"

enum sb_log_level {
	SB_LOG_ERR,
	SB_LOG_WARN,
	SB_LOG_INFO,
	SB_LOG__MAX
};

/* Names this process in every line (the route's name). */
void	 sb_log_init(const char *name);

void	 sb_log(enum sb_log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The line for one answered request: route, method, status, timings. */
void	 sb_log_request(const struct sb_req *);

#endif
