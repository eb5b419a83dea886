/* systemd's readiness protocol (sd_notify): a datagram to NOTIFY_SOCKET,
 * when the service runs under Type=notify; nothing otherwise. */
#ifndef TWOTIER_NOTIFY_H
#define TWOTIER_NOTIFY_H

/* Sends state ("READY=1", "STOPPING=1", "STATUS=...") if NOTIFY_SOCKET is
 * set. Errors are logged, never fatal: the service runs either way. */
void notify_systemd(const char *state);

#endif
