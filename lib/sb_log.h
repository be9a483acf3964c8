/*
 * sb_log.h: log lines on stderr, one per event and one per request.
 *
 * Two formats: text ("NAME[pid] level: message", the default) and JSON,
 * one object per line (SENTC_BACKEND_LOG=json). Each line is one
 * write(2), so lines of several processes never interleave.
 *
 * Nothing here is given a token, cookie or key: callers pass only ids,
 * names and numbers.
 */
#ifndef SB_LOG_H
#define SB_LOG_H

#include <stdbool.h>

#include "sb_request.h"

enum sb_log_level {
	SB_LOG_ERR,
	SB_LOG_WARN,
	SB_LOG_INFO,
	SB_LOG__MAX
};

/*
 * Names this process in every line (the route's name). The format is
 * JSON if SENTC_BACKEND_LOG=json is in the environment, until
 * sb_log_json() says otherwise once the config is read.
 */
void	 sb_log_init(const char *name);

/* Selects JSON lines (true) or text lines (false). */
void	 sb_log_json(bool);

/*
 * The request id that every line carries while a request is served
 * (NULL once it is answered). Borrowed: it must outlive its use.
 */
void	 sb_log_request_id(const char *rid);

void	 sb_log(enum sb_log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The line for one answered request: route, method, status, timings,
 * upstream status, request id and the caller's user id where known.
 */
void	 sb_log_request(const struct sb_req *);

#endif
