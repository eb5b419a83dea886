#ifndef TWOTIER_TEST_SUITES_H
#define TWOTIER_TEST_SUITES_H

#include <check.h>

Suite *router_suite(void);
Suite *json_suite(void);
Suite *config_suite(void);
Suite *problem_suite(void);
Suite *util_suite(void);
Suite *jwt_suite(void);
Suite *auth_suite(void);
Suite *log_suite(void);
Suite *password_suite(void);
Suite *mail_suite(void);
Suite *totp_suite(void);
Suite *outbound_suite(void);

#endif
