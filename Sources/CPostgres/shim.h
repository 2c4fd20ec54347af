#ifndef KITT_CPOSTGRES_SHIM_H
#define KITT_CPOSTGRES_SHIM_H
// libpq, PostgreSQL's client library (Debian: libpq-dev; pkg-config "libpq" adds
// -I/usr/include/postgresql).
#include <libpq-fe.h>
#include <poll.h>

// Waits until `fd` is readable or `timeout_ms` passes (poll(2) with one descriptor; Glibc's
// Swift overlay imports poll, but this keeps the struct handling out of Swift).
// Returns >0 readable, 0 timeout, <0 error (errno set).
static inline int kitt_pq_wait_readable(int fd, int timeout_ms) {
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    return poll(&p, 1, timeout_ms);
}

// libpq prints server NOTICEs ("relation ... already exists, skipping") to stderr by default.
// kitt's errors carry what matters (SQLSTATE, message); notices are dropped, not printed
// into the server's log stream.
static void kitt_pq_ignore_notice(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

static inline void kitt_pq_silence_notices(PGconn *conn) {
    PQsetNoticeProcessor(conn, kitt_pq_ignore_notice, NULL);
}
#endif
