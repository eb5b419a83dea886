/* Password hashing: argon2id through libsodium with OWASP's parameters
 * (19 MiB, 2 passes, 1 lane). Passwords are never logged. */
#ifndef TWOTIER_PASSWORD_H
#define TWOTIER_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_MIN	  12
#define PASSWORD_MAX	  1024
#define PASSWORD_HASH_MAX 128

/* Hashes password into out (an encoded "$argon2id$..." string). Returns 0,
 * or -1 when the hash could not be computed (out of memory). */
int password_hash(const char *password, char out[PASSWORD_HASH_MAX]);
/* Constant-time check of password against an encoded hash. */
bool password_verify(const char *password, const char *hash);

#endif
