// hsbench: new-connection throughput. Each of W workers loops for T seconds:
// connect, TLS handshake (a fresh one every time: no session cache, no tickets reused),
// one "GET PATH" with "Connection: close", read the answer to EOF, close.
// Prints: connections/s, ok, errors, connection latency p50/p99 (connect → EOF).
//
//   hsbench HOST PORT WORKERS SECONDS [PATH] [--plain]
//
// Built by Scripts/bench with: gcc -O2 -pthread hsbench.c -lssl -lcrypto
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host;
static int port;
static const char *path = "/api/v1/health";
static int plain;
static double seconds;
static SSL_CTX *ctx;
static volatile int stop;

#define MAXLAT (1 << 20)
struct worker {
    pthread_t thread;
    long ok, errors;
    long nlat;
    double *lat; // milliseconds
    char firsterr[160];
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(struct worker *w, const char *what) {
    w->errors++;
    if (!w->firsterr[0]) {
        unsigned long e = ERR_peek_last_error();
        char buf[120] = "";
        if (e) ERR_error_string_n(e, buf, sizeof buf);
        snprintf(w->firsterr, sizeof w->firsterr, "%s: %s %s", what, strerror(errno), buf);
    }
    ERR_clear_error();
}

static int one(struct worker *w, struct sockaddr_in *addr, const char *request, size_t reqlen) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) { fail(w, "socket"); return -1; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct linger lg = {1, 0}; // RST after the answer: no TIME_WAIT pile-up over 10 s of churn
    if (connect(fd, (struct sockaddr *)addr, sizeof *addr) != 0) { fail(w, "connect"); close(fd); return -1; }
    char buf[4096];
    long total = 0;
    int status_ok = 0;
    if (plain) {
        if (write(fd, request, reqlen) != (ssize_t)reqlen) { fail(w, "write"); close(fd); return -1; }
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0) {
            if (total == 0 && n >= 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0) status_ok = 1;
            total += n;
        }
    } else {
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        SSL_set_tlsext_host_name(ssl, "localhost");
        if (SSL_connect(ssl) != 1) { fail(w, "handshake"); SSL_free(ssl); close(fd); return -1; }
        if (SSL_write(ssl, request, (int)reqlen) != (int)reqlen) { fail(w, "ssl_write"); SSL_free(ssl); close(fd); return -1; }
        int n;
        while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) {
            if (total == 0 && n >= 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0) status_ok = 1;
            total += n;
        }
        ERR_clear_error();
        SSL_free(ssl);
    }
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    if (!status_ok) { errno = 0; fail(w, "no 200 answer"); return -1; }
    return 0;
}

static void *run(void *arg) {
    struct worker *w = arg;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &addr.sin_addr);
    char request[512];
    int reqlen = snprintf(request, sizeof request,
                          "GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: hsbench\r\nConnection: close\r\n\r\n", path);
    while (!stop) {
        double t0 = now();
        if (one(w, &addr, request, reqlen) == 0) {
            w->ok++;
            if (w->nlat < MAXLAT) w->lat[w->nlat++] = (now() - t0) * 1000;
        }
    }
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: hsbench HOST PORT WORKERS SECONDS [PATH] [--plain]\n");
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    int workers = atoi(argv[3]);
    seconds = atof(argv[4]);
    for (int i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--plain") == 0) plain = 1;
        else path = argv[i];
    }
    signal(SIGPIPE, SIG_IGN);
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); // the handshake still checks the server's signature

    struct worker *ws = calloc(workers, sizeof *ws);
    double t0 = now();
    for (int i = 0; i < workers; i++) {
        ws[i].lat = malloc(sizeof(double) * MAXLAT);
        pthread_create(&ws[i].thread, NULL, run, &ws[i]);
    }
    struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    stop = 1;
    long ok = 0, errors = 0, n = 0;
    const char *firsterr = "";
    for (int i = 0; i < workers; i++) {
        pthread_join(ws[i].thread, NULL);
        ok += ws[i].ok;
        errors += ws[i].errors;
        n += ws[i].nlat;
        if (!firsterr[0] && ws[i].firsterr[0]) firsterr = ws[i].firsterr;
    }
    double elapsed = now() - t0;
    double *all = malloc(sizeof(double) * (n ? n : 1));
    long k = 0;
    for (int i = 0; i < workers; i++) {
        memcpy(all + k, ws[i].lat, sizeof(double) * ws[i].nlat);
        k += ws[i].nlat;
    }
    qsort(all, n, sizeof(double), cmp);
    double p50 = n ? all[n / 2] : 0, p99 = n ? all[(long)(n * 0.99)] : 0;
    printf("conns_per_s=%.1f ok=%ld errors=%ld p50_ms=%.2f p99_ms=%.2f elapsed_s=%.2f mode=%s\n", ok / elapsed, ok,
           errors, p50, p99, elapsed, plain ? "plain" : "tls");
    if (errors) printf("first_error=%s\n", firsterr);
    return 0;
}
