/*
 * sb_unsure.h: calls to sentc whose answer was lost, settled later.
 *
 * A call that reached sentc and then lost its answer (the connection
 * dropped, the answer came cut short, garbled or after
 * SENTC_BACKEND_UPSTREAM_TIMEOUT_MS) may have taken effect, or may still
 * take effect: a slow server finishes its work after the backend gave
 * up. Two kinds would leave the own store and sentc apart; each is
 * recorded in the store (sb_db_unsure_*) until it is settled:
 *
 * SB_UNSURE_REGISTER, keyed by the identifier: sentc may have made, or
 * may still make, a user without an own row. It is settled no sooner
 * than sb_unsure_after() seconds after the lost answer (longer than any
 * register takes, so that a register of the same name that began before
 * is over), then again every sb_unsure_after() seconds until
 * SB_UNSURE_KEEP seconds have passed: if no own row has the identifier
 * and sentc has a user with it (POST /exists), that user is deleted at
 * sentc (PUT /user/forced/delete). A register of the same name holds the
 * record while it runs, so that nothing settles it meanwhile.
 *
 * SB_UNSURE_DELETE, keyed by the user id: sentc may have deleted, or may
 * still delete, a user whose own row is left. The delete is finished:
 * DELETE /user/forced/delete/{id}, and once sentc answers success or
 * "user not found", the own row goes. At once, by the request that lost
 * the answer, and if that fails, every sb_unsure_after() seconds until
 * it worked.
 *
 * sb_unsure_pass() settles what is due. The programs that make and
 * delete users (SB_ROUTE_SETTLE) run it in a task of each worker, about
 * once a second.
 */
#ifndef SB_UNSURE_H
#define SB_UNSURE_H

#include <stdbool.h>

#include "sb_error.h"
#include "sb_request.h"
#include "sb_upstream.h"

#define SB_UNSURE_REGISTER	1
#define SB_UNSURE_DELETE	2
#define SB_UNSURE_KEEP		3600	/* seconds a lost register is watched */
#define SB_UNSURE_PASS_MAX	4	/* records one pass settles at most */

/*
 * Seconds after a lost register before it is settled, and between
 * tries: three upstream timeouts (a register's calls) and 5 s.
 */
long	 sb_unsure_after(void);

/*
 * POST /register with body[0..len), a register of identifier (NULL if
 * the body names none: sentc makes no user then), with the token of
 * user_register, and the lost-answer protocol around it: an earlier
 * lost register of the name is held (sb_unsure_hold_register()) until
 * the request ends, sentc is asked first whether the name was taken,
 * and a fault after the call reached sentc is settled
 * (sb_unsure_register()). Returns 0 with sentc's answer in *up (the
 * caller frees it), or -1 once it has answered. At the request's end the
 * hold goes if an own row has the name, else it stays, due as it was.
 */
int	 sb_relay_register(struct sb_req *, const char *identifier,
	    const char *body, size_t len, struct sb_upstream_res *up);

/*
 * After fault e on a register of identifier that reached sentc: deletes
 * the user it may have made (PUT /user/forced/delete by identifier) and,
 * unless that found and deleted one, records the register. Answers e, or
 * SB_ERR_INCONSISTENT (logged) if the undo failed and the record could
 * not be written either.
 */
void	 sb_unsure_register(struct sb_req *, enum sb_err e,
	    const char *identifier);

/*
 * Before a register of identifier: holds the record of an earlier lost
 * register of that name, if there is one, for as long as this register
 * may take. Returns 1 if it holds one (end it with
 * sb_unsure_registered()), 0 if there is none, or -1 once it has
 * answered 503: SB_ERR_SETTLING if another worker holds it,
 * SB_ERR_STORAGE.
 */
int	 sb_unsure_hold_register(struct sb_req *, const char *identifier);

/*
 * Ends the hold: the record goes if the register succeeded and stored
 * its row (sentc now has the name, and a late earlier register can only
 * fail), else it stays, due as it was.
 */
void	 sb_unsure_registered(const char *identifier, bool stored);

/*
 * After fault e on a delete of user_id that reached sentc: records it
 * and finishes it at once. Answers sentc's success once the user is gone
 * at sentc and here; else answers e, and the record stays for
 * sb_unsure_pass().
 */
void	 sb_unsure_delete(struct sb_req *, enum sb_err e,
	    const char *user_id);

/*
 * Settles up to SB_UNSURE_PASS_MAX records that are due, at most once a
 * second per process; errors are logged and left for the next pass.
 */
void	 sb_unsure_pass(void);

#endif
