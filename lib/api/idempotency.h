/* Idempotency-Key on creating POSTs (SPEC §6): per principal, kept 24 h.
 * The same key and body replay the first response; another body is
 * refused (422); a first request still running answers 409.
 *
 * The key is claimed, and its response stored, in the same transaction as
 * the change the request makes (app.c runs the handler inside it): after a
 * crash a retry either finds the committed change with its response, and
 * replays it, or finds neither, and runs afresh. */
#ifndef TWOTIER_IDEMPOTENCY_H
#define TWOTIER_IDEMPOTENCY_H

#include "db/db.h"

struct problem;
struct response;

enum idem_state { IDEM_NEW, IDEM_REPLAY };

/* Claims (principal, key) for a request whose hash is request_hash (hex
 * SHA-256), in the caller's transaction. *state IDEM_NEW: run the request,
 * then idem_store before the commit. IDEM_REPLAY: res holds the stored
 * response. DB_REFUSED with p set: 409 while another transaction holds the
 * key (the first request is still running; never waited for), 422 when
 * the key came with another body. Else a db_exec status. */
enum db_status idem_claim(struct db *db, const char *principal, const char *key,
			  const char *request_hash, struct response *res, enum idem_state *state,
			  struct problem *p);

/* Stores the response of the claimed key, in the same transaction.
 * secret_field (may be NULL) names a top-level JSON field stored as null: a
 * secret is shown once, never kept. A 5xx is never stored: the caller rolls
 * the transaction back, releasing the key, so that the client may try
 * again. */
enum db_status idem_store(struct db *db, const char *principal, const char *key,
			  const struct response *res, const char *secret_field);

#endif
