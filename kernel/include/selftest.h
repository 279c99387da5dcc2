/* selftest.h: kernel self-tests chosen on the command line (selftest=NAME). */
#ifndef FERRY_SELFTEST_H
#define FERRY_SELFTEST_H

/* Runs the named self-test.  Fault tests do not return (the fault handler
 * reports and exits); an unknown name is reported and the machine exits
 * with failure. */
void selftest_run(const char *name);

#endif
