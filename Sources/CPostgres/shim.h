#ifndef KITT_CPOSTGRES_SHIM_H
#define KITT_CPOSTGRES_SHIM_H
// libpq, PostgreSQL's client library: only its header (Debian: libpq-dev) at build time.
// kitt does not link libpq: `kitt agent` runs on GPU machines without it, so KittPostgres's
// LibPQ loads libpq.so.5 with dlopen on first use and calls through the pointers below.
#include <postgresql/libpq-fe.h>
#include <poll.h>

// One function-pointer type per libpq function kitt calls, taken from libpq's own
// declarations so a dlsym'd pointer is always called with the right signature.
// (__typeof__ does not evaluate its operand: these create no reference to libpq.)
#define KITT_PQ_FUNCTION(name) typedef __typeof__(&name) kitt_##name;
KITT_PQ_FUNCTION(PQbackendPID)
KITT_PQ_FUNCTION(PQclear)
KITT_PQ_FUNCTION(PQcmdTuples)
KITT_PQ_FUNCTION(PQconnectdb)
KITT_PQ_FUNCTION(PQconninfoFree)
KITT_PQ_FUNCTION(PQconninfoParse)
KITT_PQ_FUNCTION(PQconsumeInput)
KITT_PQ_FUNCTION(PQerrorMessage)
KITT_PQ_FUNCTION(PQescapeIdentifier)
KITT_PQ_FUNCTION(PQexec)
KITT_PQ_FUNCTION(PQexecParams)
KITT_PQ_FUNCTION(PQfinish)
KITT_PQ_FUNCTION(PQfname)
KITT_PQ_FUNCTION(PQfreemem)
KITT_PQ_FUNCTION(PQgetisnull)
KITT_PQ_FUNCTION(PQgetlength)
KITT_PQ_FUNCTION(PQgetvalue)
KITT_PQ_FUNCTION(PQnfields)
KITT_PQ_FUNCTION(PQnotifies)
KITT_PQ_FUNCTION(PQntuples)
KITT_PQ_FUNCTION(PQresultErrorField)
KITT_PQ_FUNCTION(PQresultErrorMessage)
KITT_PQ_FUNCTION(PQresultStatus)
KITT_PQ_FUNCTION(PQsetClientEncoding)
KITT_PQ_FUNCTION(PQsetNoticeProcessor)
KITT_PQ_FUNCTION(PQsocket)
KITT_PQ_FUNCTION(PQstatus)
KITT_PQ_FUNCTION(PQtransactionStatus)
#undef KITT_PQ_FUNCTION

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

// `set_notice_processor` is the loaded PQsetNoticeProcessor.
static inline void kitt_pq_silence_notices(PGconn *conn, kitt_PQsetNoticeProcessor set_notice_processor) {
    set_notice_processor(conn, kitt_pq_ignore_notice, NULL);
}
#endif
