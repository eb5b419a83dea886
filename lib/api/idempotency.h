/* Idempotency-Key on creating POSTs (SPEC §6): per principal, kept 24 h.
 * The same key and body replay the first response; another body is
 * refused (422); a first request still running answers 409. */
#ifndef TWOTIER_IDEMPOTENCY_H
#define TWOTIER_IDEMPOTENCY_H

struct db;
struct problem;
struct response;

enum idem_state { IDEM_NEW, IDEM_REPLAY };

/* Claims (principal, key) for a request whose hash is request_hash (hex
 * SHA-256). IDEM_NEW: run it, then idem_finish. IDEM_REPLAY: res holds
 * the stored response. -1 with p set: 409, 422, 503. */
int idem_begin(struct db *db, const char *principal, const char *key, const char *request_hash,
	       struct response *res, struct problem *p);

/* Stores the response of a claimed key; a 5xx releases the key instead,
 * so that the client may try again. secret_field (may be NULL) names a
 * top-level JSON field stored as null: a secret is shown once, never
 * kept. Failure here is logged, not returned: the change itself is
 * already committed. */
void idem_finish(struct db *db, const char *principal, const char *key, const struct response *res,
		 const char *secret_field);

#endif
