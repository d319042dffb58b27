/* suite_run.h — how every check program runs its suite.
 *
 *   int main(void)
 *   {
 *       Suite *s = suite_create("uuid");
 *       ...
 *       return udc_test_run(s);
 *   }
 *
 * Runs every test of the suite with CK_NORMAL output (scripts/test reads its summary line)
 * and check's usual fork mode and environment (CK_FORK, CK_DEFAULT_TIMEOUT, ...).
 */
#ifndef UDC_TEST_SUITE_RUN_H
#define UDC_TEST_SUITE_RUN_H

#include <check.h>

/* Runs s (and frees it); EXIT_SUCCESS when every test passed, EXIT_FAILURE otherwise. */
int udc_test_run(Suite *s);

#endif
