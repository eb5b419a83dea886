/* Idempotency-Key on creating POSTs (SPEC §6): per principal, kept 24 h.
 * The same key and body replay the first response; another body is
 * refused (422); a first request still running answers 409.
 *
 * The key is claimed, and its response stored, in the transaction of the
 * change the request makes (the pipeline runs the handler inside it):
 * after a crash a retry either finds the committed change with its
 * response, and replays it, or finds neither, and runs afresh. */
#ifndef TWOTIER_IDEMPOTENCY_H
#define TWOTIER_IDEMPOTENCY_H

#include <stdbool.h>

#include "db/db.h"

struct problem;

/* A response as it is kept: status 0 while its request has not finished. */
struct idem_response {
	long status;
	char content_type[65], etag[65], location[256];
	char *body; /* owned: free, or idem_response_clear */
};
void idem_response_clear(struct idem_response *r);

enum idem_state { IDEM_NEW, IDEM_REPLAY };

/* Claims (principal, key) for a request whose hash is request_hash (hex
 * SHA-256), in t. Returns 0 with *state IDEM_NEW (run the request, then
 * idem_store before the commit) or IDEM_REPLAY (*stored holds the first
 * response), or -1 with p set: 409 while another transaction holds the key
 * (the first request is still running; never waited for), 422
 * idempotency_key_reused when the key came with another body, or t failed. */
int idem_claim(struct txn *t, const char *principal, const char *key, const char *request_hash,
	       enum idem_state *state, struct idem_response *stored, struct problem *p);

/* Stores the response of the claimed key in t (a 5xx never: the caller
 * rolls back, releasing the key, so that the client may try again).
 * Returns 0, or -1 when t failed. */
int idem_store(struct txn *t, const char *principal, const char *key,
	       const struct idem_response *r);

/* Deletes up to limit keys past their 24 hours, the oldest first, for the
 * purge (purge.c); *deleted: how many. DB_OK or DB_FAILED. */
enum db_status idem_purge(struct txn *t, long long limit, unsigned long long *deleted);

#endif
