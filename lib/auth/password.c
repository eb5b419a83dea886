#include "auth/password.h"

#include "core/metrics.h"
#include "core/problem.h"
#include "core/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define OPSLIMIT 2ULL
#define MEMLIMIT (19ULL * 1024 * 1024)
/* CFS gives a nice-10 thread about a tenth of what a nice-0 one gets when
 * both want the CPU: hashing takes what the rest of the API leaves. */
#define POOL_NICE 10

int password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
	_Static_assert(crypto_pwhash_STRBYTES <= PASSWORD_HASH_MAX, "hash buffer too small");
	return crypto_pwhash_str_alg(out, password, strlen(password), OPSLIMIT, MEMLIMIT,
				     crypto_pwhash_ALG_ARGON2ID13) == 0
		   ? 0
		   : -1;
}

bool password_verify(const char *password, const char *hash)
{
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* One piece of work handed to the pool; lives on the caller's stack until
 * done is set. */
struct job {
	const char *password, *hash; /* hash: to verify against */
	char *out;		     /* to hash into, or NULL to verify */
	int result;
	bool done;
	struct job *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work, done; /* work: a job is queued; done: a job finished */
	struct job *head, *tail;
	pthread_t *threads;
	int n_threads;
	bool stopping;
} pool = {PTHREAD_MUTEX_INITIALIZER,
	  PTHREAD_COND_INITIALIZER,
	  PTHREAD_COND_INITIALIZER,
	  NULL,
	  NULL,
	  NULL,
	  0,
	  false};

static int slots_used;

static void *pool_main(void *unused)
{
	/* on Linux a nice value is a thread's own */
	setpriority(PRIO_PROCESS, (id_t)gettid(), POOL_NICE);
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		while (pool.head == NULL && !pool.stopping)
			pthread_cond_wait(&pool.work, &pool.lock);
		if (pool.head == NULL)
			break;
		struct job *j = pool.head;
		pool.head = j->next;
		if (pool.head == NULL)
			pool.tail = NULL;
		pthread_mutex_unlock(&pool.lock);
		j->result = j->out != NULL ? password_hash(j->password, j->out)
					   : password_verify(j->password, j->hash);
		pthread_mutex_lock(&pool.lock);
		j->done = true;
		pthread_cond_broadcast(&pool.done);
	}
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

int password_pool_start(int slots)
{
	pool.threads = xcalloc((size_t)(slots > 0 ? slots : 1), sizeof *pool.threads);
	for (int i = 0; i < (slots > 0 ? slots : 1); i++) {
		int rc = pthread_create(&pool.threads[i], NULL, pool_main, NULL);
		if (rc != 0) {
			errno = rc;
			return -1;
		}
		pool.n_threads++;
	}
	return 0;
}

void password_pool_stop(void)
{
	pthread_mutex_lock(&pool.lock);
	pool.stopping = true;
	pthread_cond_broadcast(&pool.work);
	pthread_mutex_unlock(&pool.lock);
	for (int i = 0; i < pool.n_threads; i++)
		pthread_join(pool.threads[i], NULL);
	free(pool.threads);
	pool.threads = NULL;
	pool.n_threads = 0;
}

/* Runs j in the pool and waits for it, or in the caller without a pool. */
static int run(struct job *j)
{
	if (pool.n_threads == 0)
		return j->out != NULL ? password_hash(j->password, j->out)
				      : password_verify(j->password, j->hash);
	pthread_mutex_lock(&pool.lock);
	j->done = false;
	j->next = NULL;
	if (pool.tail != NULL)
		pool.tail->next = j;
	else
		pool.head = j;
	pool.tail = j;
	pthread_cond_signal(&pool.work);
	while (!j->done)
		pthread_cond_wait(&pool.done, &pool.lock);
	pthread_mutex_unlock(&pool.lock);
	return j->result;
}

int password_slot_take(struct problem *p)
{
	int used = __atomic_load_n(&slots_used, __ATOMIC_RELAXED);
	do {
		if (pool.n_threads > 0 && used >= pool.n_threads) {
			metrics_password_busy();
			p->retry_after = 1;
			problem_set(
			    p, PROBLEM_UNAVAILABLE,
			    "too many passwords are being checked right now; try again in a "
			    "second");
			snprintf(p->code, sizeof p->code, "password_slots_busy");
			return -1;
		}
	} while (!__atomic_compare_exchange_n(&slots_used, &used, used + 1, true, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return 0;
}

void password_slot_give(void)
{
	__atomic_fetch_sub(&slots_used, 1, __ATOMIC_RELEASE);
}

int password_slot_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
	struct job j = {password, NULL, out, 0, false, NULL};
	return run(&j);
}

bool password_slot_verify(const char *password, const char *hash)
{
	struct job j = {password, hash, NULL, 0, false, NULL};
	return run(&j) != 0;
}

int password_hash_bounded(const char *password, char out[PASSWORD_HASH_MAX], struct problem *p)
{
	int rc;
	if (password_slot_take(p) != 0)
		return -1;
	rc = password_slot_hash(password, out);
	password_slot_give();
	if (rc != 0)
		problem_set(p, PROBLEM_UNAVAILABLE, "the service is short of memory; try again");
	return rc;
}
