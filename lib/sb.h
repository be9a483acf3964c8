/*
 * sb.h: everything a route program needs, in one include.
 */
#ifndef SB_H
#define SB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_access.h"
#include "sb_auth.h"
#include "sb_config.h"
#include "sb_cookie.h"
#include "sb_db.h"
#include "sb_error.h"
#include "sb_files.h"
#include "sb_json.h"
#include "sb_jwt.h"
#include "sb_log.h"
#include "sb_login.h"
#include "sb_origin.h"
#include "sb_request.h"
#include "sb_response.h"
#include "sb_serve.h"
#include "sb_session.h"
#include "sb_unsure.h"
#include "sb_upstream.h"
#include "sb_user.h"
#include "sb_util.h"

#endif
