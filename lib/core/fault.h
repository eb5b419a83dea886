/* Test-only fault points: in a build configured with --enable-fault-points
 * (the test stack's), fault_point(name) kills the process on the spot, as
 * kill -9 would, when the environment variable TWOTIER_FAULT names it, so
 * that a test can crash the service at an exact place. In any other build
 * it is nothing. */
#ifndef TWOTIER_FAULT_H
#define TWOTIER_FAULT_H

#ifdef TWOTIER_FAULT_POINTS
void fault_point(const char *name);
#else
#define fault_point(name) ((void)0)
#endif

#endif
