#ifndef TWOTIER_DB_SUITES_H
#define TWOTIER_DB_SUITES_H

#include <check.h>

struct config;

Suite *db_suite(void);
/* cfg: the throwaway database's (borrowed for the run) */
Suite *domain_suite(const struct config *cfg);

#endif
