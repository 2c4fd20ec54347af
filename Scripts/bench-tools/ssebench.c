// ssebench: SSE fan-out latency. Opens N subscribers on an event stream (one epoll loop,
// plain or TLS), waits until each has its stream open (": connected"), then a publisher
// thread POSTs E events over one keep-alive connection, each body carrying "seq=<k>" and
// "t=<CLOCK_REALTIME ns at send>". Every subscriber takes the receive time of each data
// line that carries them: latency = receive - send. Prints delivered/expected, latency
// p50/p90/p99/max over all (subscriber, event) pairs, publisher status codes, and the
// server's VmRSS/Threads (with --server-pid) once all are subscribed and at the end.
//
// --keepalive: publish nothing; instead measure the fan-out skew of the server's
// ": keepalive" comments (for each round: receive time - first receive of that round).
//
// In the body template "{SEQ}" and "{T}" are replaced, e.g. '{"line":"bench seq={SEQ} t={T}"}'.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CONNECTING, HANDSHAKE, SENDING, READING, DONE };
#define LINEMAX 2048

struct conn {
    int fd;
    SSL *ssl;
    int state;
    unsigned events;
    int head_done;
    int subscribed;
    int keepalives;
    int len;
    char line[LINEMAX];
};

static const char *host = "127.0.0.1", *path = "/api/v1/events/stream", *pub_path = NULL, *pub_body = NULL,
                  *token = NULL;
static int port, pub_port, use_tls, nsubs = 100, nevents = 20, interval_ms = 200, concurrency = 256, keepalive_mode;
static int server_pid;
static double timeout_s = 120;
static SSL_CTX *ctx;
static int epfd;
static struct conn *conns;
static char request[1024];
static int reqlen;

static int connected, subscribed, failed, closed_by_server;
static double *lat;
static long nlat, latcap;
static long *per_seq;
static double *ka_time; // keepalive mode: every receive time of a ": keepalive"
static long nka;
static int ka_complete; // subscribers that have seen `nevents` keepalives

static volatile int publisher_done;
static long pub_ok, pub_bad;
static int pub_first_status;
static char pub_first_error[256];
static double *pub_rtt;

static double realtime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}
static long long realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void proc_status(const char *label) {
    if (!server_pid) return;
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", server_pid);
    FILE *f = fopen(p, "r");
    if (!f) return;
    long rss = -1, threads = -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) rss = atol(line + 6);
        if (!strncmp(line, "Threads:", 8)) threads = atol(line + 8);
    }
    fclose(f);
    printf("%s_rss_kb=%ld %s_threads=%ld\n", label, rss, label, threads);
    fflush(stdout);
}

static void watch(struct conn *c, unsigned ev) {
    if (c->events == ev) return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(epfd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e);
    c->events = ev;
}

static void drop(struct conn *c, int by_server) {
    if (c->state == DONE) return;
    if (by_server && c->subscribed) closed_by_server++;
    else if (!c->subscribed) failed++;
    if (c->ssl) SSL_free(c->ssl);
    c->ssl = NULL;
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->state = DONE;
    ERR_clear_error();
}

static int start_connect(struct conn *c) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &addr.sin_addr);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) {
        c->state = DONE;
        failed++;
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->state = DONE;
        failed++;
        return -1;
    }
    watch(c, EPOLLOUT);
    return 0;
}

static void on_line(struct conn *c, char *s, int n, double t) {
    if (n > 0 && s[n - 1] == '\r') n--;
    s[n] = 0;
    if (!c->subscribed && !strcmp(s, ": connected")) {
        c->subscribed = 1;
        subscribed++;
    } else if (!strcmp(s, ": keepalive")) {
        if (keepalive_mode && c->keepalives < nevents && nka < latcap) ka_time[nka++] = t;
        if (++c->keepalives == nevents) ka_complete++;
    } else if (!strncmp(s, "data:", 5)) {
        char *q = strstr(s, "seq="), *tt = strstr(s, " t=");
        if (q && tt) {
            long seq = atol(q + 4);
            long long sent = atoll(tt + 3);
            if (nlat < latcap) lat[nlat++] = (t - sent / 1e9) * 1000;
            if (seq >= 0 && seq < nevents) per_seq[seq]++;
        }
    }
}

static void on_bytes(struct conn *c, const char *buf, int n, double t) {
    int i = 0;
    if (!c->head_done) {
        // The head is small and arrives first; accumulate it in the line buffer.
        int take = n < LINEMAX - 1 - c->len ? n : LINEMAX - 1 - c->len;
        memcpy(c->line + c->len, buf, take);
        c->len += take;
        c->line[c->len] = 0;
        char *end = strstr(c->line, "\r\n\r\n");
        if (!end) {
            if (c->len >= LINEMAX - 1) drop(c, 0);
            return;
        }
        if (strncmp(c->line, "HTTP/1.1 200", 12) != 0) {
            drop(c, 0);
            return;
        }
        c->head_done = 1;
        int consumed_from_line = (int)(end + 4 - c->line);
        int rest = c->len - consumed_from_line;
        // bytes of buf already copied beyond the head are reprocessed from buf
        i = take - rest;
        c->len = 0;
    }
    for (; i < n; i++) {
        char ch = buf[i];
        if (ch == '\n') {
            on_line(c, c->line, c->len, t);
            c->len = 0;
        } else if (c->len < LINEMAX - 2) {
            c->line[c->len++] = ch;
        }
    }
}

static void step(struct conn *c, unsigned ev) {
    if (c->state == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (ev & (EPOLLERR | EPOLLHUP))) {
            drop(c, 0);
            return;
        }
        connected++;
        if (use_tls) {
            c->ssl = SSL_new(ctx);
            SSL_set_fd(c->ssl, c->fd);
            SSL_set_tlsext_host_name(c->ssl, "localhost");
            c->state = HANDSHAKE;
        } else {
            c->state = SENDING;
        }
    }
    if (c->state == HANDSHAKE) {
        int r = SSL_connect(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) watch(c, EPOLLIN);
            else if (e == SSL_ERROR_WANT_WRITE) watch(c, EPOLLOUT);
            else drop(c, 0);
            return;
        }
        c->state = SENDING;
    }
    if (c->state == SENDING) {
        int w = c->ssl ? SSL_write(c->ssl, request, reqlen) : (int)write(c->fd, request, reqlen);
        if (w != reqlen) {
            if ((c->ssl && SSL_get_error(c->ssl, w) == SSL_ERROR_WANT_WRITE) || (!c->ssl && errno == EAGAIN)) {
                watch(c, EPOLLOUT);
                return;
            }
            drop(c, 0);
            return;
        }
        c->state = READING;
        watch(c, EPOLLIN);
        return; // the answer comes with a later event
    }
    if (c->state == READING) {
        static char buf[65536];
        for (;;) {
            int n;
            if (c->ssl) {
                n = SSL_read(c->ssl, buf, sizeof buf);
                if (n <= 0) {
                    int e = SSL_get_error(c->ssl, n);
                    if (e == SSL_ERROR_WANT_READ) return;
                    if (e == SSL_ERROR_WANT_WRITE) { watch(c, EPOLLOUT | EPOLLIN); return; }
                    drop(c, 1);
                    return;
                }
            } else {
                n = (int)read(c->fd, buf, sizeof buf);
                if (n < 0 && errno == EAGAIN) return;
                if (n <= 0) {
                    drop(c, 1);
                    return;
                }
            }
            on_bytes(c, buf, n, realtime());
            if (c->state == DONE) return;
        }
    }
}

// ---- publisher (its own thread, blocking socket) ----

struct pubconn {
    int fd;
    SSL *ssl;
};

static int pub_open(struct pubconn *p) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(pub_port)};
    inet_pton(AF_INET, host, &addr.sin_addr);
    p->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(p->fd, (struct sockaddr *)&addr, sizeof addr) != 0) return -1;
    p->ssl = NULL;
    if (use_tls) {
        p->ssl = SSL_new(ctx);
        SSL_set_fd(p->ssl, p->fd);
        SSL_set_tlsext_host_name(p->ssl, "localhost");
        if (SSL_connect(p->ssl) != 1) return -1;
    }
    return 0;
}
static void pub_close(struct pubconn *p) {
    if (p->ssl) SSL_free(p->ssl);
    p->ssl = NULL;
    if (p->fd >= 0) close(p->fd);
    p->fd = -1;
}
static int pub_write(struct pubconn *p, const char *b, int n) {
    return p->ssl ? SSL_write(p->ssl, b, n) : (int)write(p->fd, b, n);
}
static int pub_read(struct pubconn *p, char *b, int n) {
    return p->ssl ? SSL_read(p->ssl, b, n) : (int)read(p->fd, b, n);
}

// One POST; returns the status (or -1) and copies the body into err (for reporting).
static int pub_post(struct pubconn *p, const char *body, char *err, size_t errlen) {
    char req[8192];
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s%s%s\r\n%s",
                     pub_path, strlen(body), token ? "Authorization: Bearer " : "", token ? token : "",
                     token ? "\r\n" : "", body);
    if (pub_write(p, req, n) != n) return -1;
    char buf[16384];
    int have = 0;
    for (;;) {
        int r = pub_read(p, buf + have, (int)sizeof buf - 1 - have);
        if (r <= 0) return -1;
        have += r;
        buf[have] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        char *cl = strcasestr(buf, "\r\ncontent-length:");
        long length = cl && cl < end ? atol(cl + 17) : 0;
        if (end + 4 - buf + length <= have) {
            int status = 0;
            sscanf(buf, "HTTP/1.%*d %d", &status);
            snprintf(err, errlen, "%.*s", (int)length, end + 4);
            if (strcasestr(buf, "\r\nconnection: close")) pub_close(p);
            return status;
        }
        if (have >= (int)sizeof buf - 1) return -1;
    }
}

static void *publisher(void *arg) {
    (void)arg;
    struct pubconn p = {-1, NULL};
    for (int seq = 0; seq < nevents; seq++) {
        if (p.fd < 0 && pub_open(&p) != 0) pub_close(&p);
        char body[4096], tmp[4096];
        long long t = realtime_ns();
        // fill the template
        const char *s = pub_body;
        char *o = body;
        while (*s && o < body + sizeof body - 40) {
            if (!strncmp(s, "{SEQ}", 5)) { o += sprintf(o, "%d", seq); s += 5; }
            else if (!strncmp(s, "{T}", 3)) { o += sprintf(o, "%lld", t); s += 3; }
            else *o++ = *s++;
        }
        *o = 0;
        int status = p.fd >= 0 ? pub_post(&p, body, tmp, sizeof tmp) : -1;
        pub_rtt[seq] = (realtime_ns() - t) / 1e6;
        if (status >= 200 && status < 300) pub_ok++;
        else {
            pub_bad++;
            if (!pub_first_status) {
                pub_first_status = status;
                snprintf(pub_first_error, sizeof pub_first_error, "%.200s", status < 0 ? "no answer" : tmp);
            }
            pub_close(&p);
        }
        usleep(interval_ms * 1000);
    }
    pub_close(&p);
    publisher_done = 1;
    return NULL;
}

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double pct(double *v, long n, double q) { return n ? v[(long)((n - 1) * q)] : 0; }

static void pump(int ms) {
    static struct epoll_event evs[1024];
    int k = epoll_wait(epfd, evs, 1024, ms);
    for (int i = 0; i < k; i++) step(evs[i].data.ptr, evs[i].events);
}

int main(int argc, char **argv) {
    static struct option opts[] = {
        {"host", 1, 0, 'h'},    {"port", 1, 0, 'p'},     {"tls", 0, 0, 's'},       {"n", 1, 0, 'n'},
        {"path", 1, 0, 'P'},    {"events", 1, 0, 'e'},   {"interval-ms", 1, 0, 'i'}, {"pub-path", 1, 0, 'u'},
        {"pub-body", 1, 0, 'b'}, {"pub-port", 1, 0, 'q'}, {"token", 1, 0, 't'},     {"keepalive", 0, 0, 'k'},
        {"server-pid", 1, 0, 'S'}, {"timeout", 1, 0, 'T'}, {"concurrency", 1, 0, 'c'}, {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 's': use_tls = 1; break;
        case 'n': nsubs = atoi(optarg); break;
        case 'P': path = optarg; break;
        case 'e': nevents = atoi(optarg); break;
        case 'i': interval_ms = atoi(optarg); break;
        case 'u': pub_path = optarg; break;
        case 'b': pub_body = optarg; break;
        case 'q': pub_port = atoi(optarg); break;
        case 't': token = optarg; break;
        case 'k': keepalive_mode = 1; break;
        case 'S': server_pid = atoi(optarg); break;
        case 'T': timeout_s = atof(optarg); break;
        case 'c': concurrency = atoi(optarg); break;
        default: return 2;
        }
    }
    if (!port || (!keepalive_mode && (!pub_path || !pub_body))) {
        fprintf(stderr, "usage: ssebench --port P [--tls] --n N --events E --interval-ms I "
                        "(--pub-path PATH --pub-body TEMPLATE [--token T] | --keepalive) [--server-pid PID]\n");
        return 2;
    }
    if (!pub_port) pub_port = port;
    signal(SIGPIPE, SIG_IGN);
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    reqlen = snprintf(request, sizeof request,
                      "GET %s HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\nUser-Agent: ssebench\r\n%s%s%s\r\n",
                      path, token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
    conns = calloc(nsubs, sizeof *conns);
    latcap = (long)nsubs * nevents;
    lat = malloc(sizeof(double) * (latcap ? latcap : 1));
    per_seq = calloc(nevents + 1, sizeof(long));
    ka_time = malloc(sizeof(double) * (latcap ? latcap : 1));
    pub_rtt = calloc(nevents + 1, sizeof(double));
    epfd = epoll_create1(0);

    // Phase 1: subscribe everyone, at most `concurrency` connects/handshakes in flight.
    double t0 = realtime(), deadline = t0 + timeout_s;
    int next = 0;
    while (subscribed + failed < nsubs && realtime() < deadline) {
        while (next < nsubs && next - (subscribed + failed) < concurrency) start_connect(&conns[next++]);
        pump(10);
    }
    double subscribe_s = realtime() - t0;
    printf("subscribers=%d subscribed=%d failed=%d subscribe_s=%.2f mode=%s\n", nsubs, subscribed, failed, subscribe_s,
           use_tls ? "tls" : "plain");
    fflush(stdout);
    // let the server finish registering the last subscribers
    for (double until = realtime() + 0.3; realtime() < until;) pump(10);
    proc_status("subscribed");

    // Phase 2: publish (or wait for keepalives) while delivering.
    pthread_t pub;
    double p0 = realtime();
    long expected = (long)subscribed * nevents;
    if (!keepalive_mode) pthread_create(&pub, NULL, publisher, NULL);
    double quiet_deadline = 0;
    for (;;) {
        pump(20);
        double now = realtime();
        if (now > deadline) break;
        if (keepalive_mode) {
            if (ka_complete >= subscribed - closed_by_server) break;
        } else if (publisher_done) {
            long delivered = 0;
            for (int s = 0; s < nevents; s++) delivered += per_seq[s];
            long target = (long)(subscribed - closed_by_server) * pub_ok;
            if (delivered >= target) break;
            if (!quiet_deadline) quiet_deadline = now + 5; // stragglers get 5 s after the last publish
            if (now > quiet_deadline) break;
        }
    }
    double run_s = realtime() - p0;
    if (!keepalive_mode) pthread_join(pub, NULL);
    proc_status("end");

    if (keepalive_mode) {
        // A round is a cluster of receive times (gaps inside a round are far below the interval);
        // skew = receive time - first receive of its round.
        qsort(ka_time, nka, sizeof(double), cmpd);
        double *skew = malloc(sizeof(double) * (nka ? nka : 1));
        double first = nka ? ka_time[0] : 0;
        for (long i = 0; i < nka; i++) {
            if (i && ka_time[i] - ka_time[i - 1] > 0.25) first = ka_time[i];
            skew[i] = (ka_time[i] - first) * 1000;
        }
        qsort(skew, nka, sizeof(double), cmpd);
        printf("keepalive_rounds=%d received=%ld expected=%ld closed_by_server=%d skew_p50_ms=%.2f skew_p90_ms=%.2f "
               "skew_p99_ms=%.2f skew_max_ms=%.2f run_s=%.1f\n",
               nevents, nka, expected, closed_by_server, pct(skew, nka, .5), pct(skew, nka, .9), pct(skew, nka, .99),
               nka ? skew[nka - 1] : 0, run_s);
    } else {
        qsort(lat, nlat, sizeof(double), cmpd);
        qsort(pub_rtt, nevents, sizeof(double), cmpd);
        printf("events=%d published_ok=%ld published_bad=%ld delivered=%ld expected=%ld closed_by_server=%d "
               "lat_p50_ms=%.2f lat_p90_ms=%.2f lat_p99_ms=%.2f lat_max_ms=%.2f publish_rtt_p50_ms=%.2f run_s=%.1f\n",
               nevents, pub_ok, pub_bad, nlat, (long)subscribed * pub_ok, closed_by_server, pct(lat, nlat, .5),
               pct(lat, nlat, .9), pct(lat, nlat, .99), nlat ? lat[nlat - 1] : 0, pct(pub_rtt, nevents, .5), run_s);
        if (pub_bad) printf("publish_first_error=%d %s\n", pub_first_status, pub_first_error);
    }
    return 0;
}
