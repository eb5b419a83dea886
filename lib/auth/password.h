/* Password hashing: argon2id through libsodium with OWASP's parameters
 * (19 MiB, 2 passes, 1 lane). Passwords are never logged.
 *
 * A hash or a check costs tens of milliseconds of CPU, more than anything
 * else a request does. On the request path they run in a pool of threads
 * of their own, at a lower CPU priority than the workers, one slot a
 * thread: a flood of sign-ins occupies at most that many workers (each
 * waits for its slot's result), leaves the CPU to every other request
 * first, and a request that finds every slot taken is refused at once
 * (503 with Retry-After) instead of queueing behind the others. */
#ifndef TWOTIER_PASSWORD_H
#define TWOTIER_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

struct problem;

#define PASSWORD_MIN	  12
#define PASSWORD_MAX	  1024
#define PASSWORD_HASH_MAX 128

/* Hashes password into out (an encoded "$argon2id$..." string), in the
 * calling thread. Returns 0, or -1 when the hash could not be computed
 * (out of memory). */
int password_hash(const char *password, char out[PASSWORD_HASH_MAX]);
/* Constant-time check of password against an encoded hash, in the calling
 * thread. */
bool password_verify(const char *password, const char *hash);

/* Starts the pool: slots threads at nice 10 (at least 1). Call once,
 * before the worker threads start; password_pool_stop after they end.
 * Without a pool (the admin tool, the unit tests) slots are not limited
 * and the work runs in the caller. Returns 0, or -1 with errno. */
int password_pool_start(int slots);
void password_pool_stop(void);

/* Takes a slot without waiting: 0, or -1 with p set (503, Retry-After 1,
 * code "password_slots_busy") when every slot is in use. */
int password_slot_take(struct problem *p);
void password_slot_give(void);
/* password_hash and password_verify in a slot the caller has taken, run by
 * the pool; the caller waits for the result. */
int password_slot_hash(const char *password, char out[PASSWORD_HASH_MAX]);
bool password_slot_verify(const char *password, const char *hash);

/* Takes a slot, hashes, gives the slot back: 0, or -1 with p set (503:
 * every slot busy, or out of memory). */
int password_hash_bounded(const char *password, char out[PASSWORD_HASH_MAX], struct problem *p);

#endif
