// scalebench: the mixed load of `Scripts/bench scale` (issue 10), over plain HTTP keep-alive.
//
//   scalebench mixed HOST PORT TOKEN AGENT_ID SECONDS TOTAL
//       one agent POSTing a result every 1/30 s (paced, not back to back);
//       2 dashboard connections, each sending a request every 50 ms, in turn:
//         an aggregate (random group_by, 1..8 random metrics: almost never a cache hit),
//         a list page at a random depth (of TOTAL results; no filter, model or engine filter),
//         a list page at a random depth with two or three filters combined,
//         a compare of 100 ids;
//       4 health connections, each GET /api/v1/health every 10 ms.
//   scalebench flood HOST PORT TOKEN AGENT_ID SECONDS CONNECTIONS
//       CONNECTIONS connections POSTing results back to back (durable POST rate). Their
//       timestamps are spread over the month before the newest stored result, so they land
//       amid the stored history (late or re-sent reports).
//   scalebench flood-now HOST PORT TOKEN AGENT_ID SECONDS CONNECTIONS
//       the same with "now" as timestamp, as agents reporting a finished run do.
//
// "Now" is the wall clock, or, when the store holds results dated later than that (a
// generated history can reach past today), the newest stored timestamp plus the time since
// scalebench started: always after the whole history, as a live agent's clock is. The mixed
// load's agent reports "now" too.
//
// Prints one line per request kind: count, p50/p99/max ms, non-2xx, errors.
// Built by Scripts/bench with: gcc -O2 -pthread scalebench.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum kind { HEALTH, AGGREGATE, PAGE, FILTERED_PAGE, COMBINED_PAGE, COMPARE, POST, KINDS };
static const char *kind_names[KINDS] = {"health",         "aggregate",   "list-page", "list-page-filtered",
                                        "list-page-combined", "compare-100", "result-post"};

static const char *host, *token, *agent;
static int port;
static double seconds, started;
static long total_results;
static volatile int stop;
static char compare_body[4096];

static const char *models[] = {"meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct",
                               "Qwen/Qwen2.5-7B-Instruct", "mistralai/Mistral-7B-Instruct-v0.3",
                               "google/gemma-2-9b-it"};
static const char *engines[] = {"vllm", "llama_cpp", "ollama"};
static const char *metrics[] = {"avg_tps", "p50_latency_ms", "p99_latency_ms", "ttft_ms",
                                "tokens", "gpu_util", "memory_gb", "errors"};
static const char *groups[] = {"model", "engine", "suite_name"};

struct samples {
    double *ms;
    long n, cap, non2xx, errors;
    char first[200];
};

struct conn {
    int fd;
    char buf[1 << 20];
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t) {
    double d = t - now();
    if (d <= 0) return;
    struct timespec ts = {(time_t)d, (long)((d - (time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
}

static void record(struct samples *s, double ms) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->ms = realloc(s->ms, s->cap * sizeof(double));
    }
    s->ms[s->n++] = ms;
}

static int connect_to(void) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// One request on a keep-alive connection; returns the status (-1 on a transport error)
// and leaves the body in c->buf (NUL-terminated, truncated to the buffer).
static int exchange(struct conn *c, const char *method, const char *path, const char *body) {
    if (c->fd < 0 && (c->fd = connect_to()) < 0) return -1;
    size_t blen = body ? strlen(body) : 0;
    char head[1024];
    int hlen = snprintf(head, sizeof head,
                        "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                        "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                        method, path, host, token, blen);
    if (write(c->fd, head, hlen) != hlen || (blen && write(c->fd, body, blen) != (ssize_t)blen)) goto broken;
    size_t have = 0;
    char *end = NULL;
    while (!(end = memmem(c->buf, have, "\r\n\r\n", 4))) {
        ssize_t n = read(c->fd, c->buf + have, sizeof c->buf - 1 - have);
        if (n <= 0) goto broken;
        have += n;
    }
    c->buf[have] = 0;
    int status = atoi(c->buf + 9);
    char *cl = strcasestr(c->buf, "\r\ncontent-length:");
    size_t length = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
    size_t header = end + 4 - c->buf, want = header + length;
    while (have < want) {
        char sink[65536];
        ssize_t n = want - have < sizeof sink ? (ssize_t)(want - have) : (ssize_t)sizeof sink;
        if (have < sizeof c->buf - 1) {
            n = read(c->fd, c->buf + have, (sizeof c->buf - 1 - have) < (size_t)n ? sizeof c->buf - 1 - have : (size_t)n);
        } else {
            n = read(c->fd, sink, n);
        }
        if (n <= 0) goto broken;
        have += n;
    }
    memmove(c->buf, c->buf + header, (have < sizeof c->buf ? have : sizeof c->buf - 1) - header);
    c->buf[(have < sizeof c->buf ? have : sizeof c->buf - 1) - header] = 0;
    return status;
broken:
    close(c->fd);
    c->fd = -1;
    return -1;
}

static void timed(struct samples *s, struct conn *c, const char *method, const char *path, const char *body) {
    double t0 = now();
    int status = exchange(c, method, path, body);
    double ms = (now() - t0) * 1000;
    if (status < 0) {
        s->errors++;
        if (!s->first[0]) snprintf(s->first, sizeof s->first, "%s %s: %s", method, path, strerror(errno));
        return;
    }
    record(s, ms);
    if (status < 200 || status > 299) {
        s->non2xx++;
        if (!s->first[0]) snprintf(s->first, sizeof s->first, "%s %s: HTTP %d %.80s", method, path, status, c->buf);
    }
}

static int now_timestamps;
// The newest stored timestamp (seconds since the epoch; 0 when the store is empty) and the
// wall clock when scalebench started, both read once before any load.
static double newest_stored, wall_started;

static double wall_clock(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

// ISO 8601 UTC ("2026-03-01T12:00:00Z", optional fraction) to seconds; 0 if unreadable.
static double parse_timestamp(const char *text) {
    struct tm tm = {0};
    const char *rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest) return 0;
    double fraction = *rest == '.' ? atof(rest) : 0;
    return (double)timegm(&tm) + fraction;
}

static void format_timestamp(char *out, size_t cap, double t) {
    time_t whole = (time_t)t;
    long micros = (long)((t - (double)whole) * 1e6);
    struct tm tm;
    gmtime_r(&whole, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, micros);
}

// "Now" for an agent's report: after every stored result (see the header).
static double report_time(void) {
    double wall = wall_clock();
    double after_history = newest_stored + 1 + (wall - wall_started);
    return wall > after_history ? wall : after_history;
}

// The newest stored result's timestamp: the first item of the first list page.
static int load_newest_timestamp(void) {
    struct conn *c = calloc(1, sizeof *c);
    c->fd = -1;
    int status = exchange(c, "GET", "/api/v1/results/?per_page=1", NULL);
    const char *key = status == 200 ? strstr(c->buf, "\"timestamp\":\"") : NULL;
    newest_stored = key ? parse_timestamp(key + 13) : 0;
    if (c->fd >= 0) close(c->fd);
    free(c);
    wall_started = wall_clock();
    return status == 200 ? 0 : -1;
}

static void result_body(char *out, size_t cap, long n, int now_stamp) {
    char stamp[64];
    if (now_stamp) {
        format_timestamp(stamp, sizeof stamp, report_time());
    } else {
        // Amid the month before the newest stored result (before now on an empty store), at
        // a pseudo-random point.
        double back = (double)((n * 7919L) % (30L * 86400L)) + (double)(n % 1000000) / 1e6;
        format_timestamp(stamp, sizeof stamp, (newest_stored > 0 ? newest_stored : wall_started) - back);
    }
    snprintf(out, cap,
             "{\"status\":\"completed\",\"result_data\":{\"model\":\"%s\",\"engine\":\"%s\",\"suite_name\":\"%s\","
             "\"timestamp\":\"%s\",\"passed\":true,\"total_benchmarks\":1,"
             "\"passed_count\":1,\"failed_count\":0,\"total_time_seconds\":%ld.5,\"kitt_version\":\"1.2.0\","
             "\"results\":[{\"test_name\":\"throughput\",\"test_version\":\"1.0.0\",\"run_number\":1,\"passed\":true,"
             "\"metrics\":{\"avg_tps\":%ld.25,\"p50_latency_ms\":%ld.5,\"p99_latency_ms\":%ld.5,\"ttft_ms\":%ld.75},"
             "\"errors\":[]}],\"system_info\":{\"gpu\":{\"model\":\"NVIDIA H100 80GB HBM3\",\"vram_gb\":80,\"count\":8},"
             "\"ram_gb\":512,\"environment_type\":\"bare_metal\",\"fingerprint\":\"fp-%ld\"}}}",
             models[n % 5], engines[n % 3], n % 2 ? "quick" : "standard", stamp, 30 + n % 3000, 20 + (n * 7919) % 4000, 5 + n % 200, 200 + n % 1800, 10 + n % 900,
             n);
}

// ---------------------------------------------------------------- mixed

struct worker {
    pthread_t thread;
    int role; // 0 agent, 1 dashboard, 2 health
    unsigned seed;
    long serial;
    struct samples s[KINDS];
};

static void *agent_loop(struct worker *w) {
    struct conn *c = calloc(1, sizeof *c);
    c->fd = -1;
    char path[256], body[4096];
    snprintf(path, sizeof path, "/api/v1/agents/%s/results", agent);
    double next = now();
    while (!stop) {
        result_body(body, sizeof body, (long)getpid() * 1000000L + w->serial++, 1);
        timed(&w->s[POST], c, "POST", path, body);
        next += 1.0 / 30;
        sleep_until(next);
    }
    return NULL;
}

static void *dashboard_loop(struct worker *w) {
    struct conn *c = calloc(1, sizeof *c);
    c->fd = -1;
    char path[1024];
    double next = now();
    for (long turn = 0; !stop; turn++) {
        int k = turn % 5;
        if (k == 0) {
            int n = 1 + rand_r(&w->seed) % 8;
            int len = snprintf(path, sizeof path, "/api/v1/results/aggregate?group_by=%s", groups[rand_r(&w->seed) % 3]);
            for (int i = 0; i < n; i++)
                len += snprintf(path + len, sizeof path - len, "&metric=%s", metrics[rand_r(&w->seed) % 8]);
            timed(&w->s[AGGREGATE], c, "GET", path, NULL);
        } else if (k == 1) {
            long pages = total_results / 25 > 0 ? total_results / 25 : 1;
            snprintf(path, sizeof path, "/api/v1/results/?per_page=25&page=%ld", 1 + rand_r(&w->seed) % pages);
            timed(&w->s[PAGE], c, "GET", path, NULL);
        } else if (k == 2) {
            // A filter keeps a tenth to a third of the results: pages up to that depth.
            int f = rand_r(&w->seed) % 2;
            long pages = total_results / (f ? 3 : 10) / 25;
            if (pages < 1) pages = 1;
            if (f) {
                snprintf(path, sizeof path, "/api/v1/results/?per_page=25&engine=%s&page=%ld", engines[rand_r(&w->seed) % 3],
                         1 + rand_r(&w->seed) % pages);
            } else {
                char model[128];
                int m = 0;
                for (const char *p = models[rand_r(&w->seed) % 5]; *p; p++) m += sprintf(model + m, *p == '/' ? "%%2F" : "%c", *p);
                snprintf(path, sizeof path, "/api/v1/results/?per_page=25&model=%s&page=%ld", model, 1 + rand_r(&w->seed) % pages);
            }
            timed(&w->s[FILTERED_PAGE], c, "GET", path, NULL);
        } else if (k == 3) {
            // Combined filters: model+engine, model+suite, engine+suite, all three. The bench
            // data has 10 models x 3 engines x 2 suites (Scripts/bench-tools/results.py), so
            // these keep 1/30, 1/20, 1/6 and 1/60 of the results: pages up to that depth.
            static const long share[] = {30, 20, 6, 60};
            int f = rand_r(&w->seed) % 4;
            long pages = total_results / share[f] / 25;
            if (pages < 1) pages = 1;
            char model[128];
            int m = 0;
            for (const char *p = models[rand_r(&w->seed) % 5]; *p; p++) m += sprintf(model + m, *p == '/' ? "%%2F" : "%c", *p);
            const char *engine = engines[rand_r(&w->seed) % 3], *suite = rand_r(&w->seed) % 2 ? "quick" : "standard";
            long page = 1 + rand_r(&w->seed) % pages;
            if (f == 0)
                snprintf(path, sizeof path, "/api/v1/results/?per_page=25&model=%s&engine=%s&page=%ld", model, engine, page);
            else if (f == 1)
                snprintf(path, sizeof path, "/api/v1/results/?per_page=25&model=%s&suite_name=%s&page=%ld", model, suite, page);
            else if (f == 2)
                snprintf(path, sizeof path, "/api/v1/results/?per_page=25&engine=%s&suite_name=%s&page=%ld", engine, suite, page);
            else
                snprintf(path, sizeof path, "/api/v1/results/?per_page=25&model=%s&engine=%s&suite_name=%s&page=%ld", model,
                         engine, suite, page);
            timed(&w->s[COMBINED_PAGE], c, "GET", path, NULL);
        } else {
            timed(&w->s[COMPARE], c, "POST", "/api/v1/results/compare", compare_body);
        }
        next += 0.05;
        sleep_until(next);
    }
    return NULL;
}

static void *health_loop(struct worker *w) {
    struct conn *c = calloc(1, sizeof *c);
    c->fd = -1;
    double next = now();
    while (!stop) {
        timed(&w->s[HEALTH], c, "GET", "/api/v1/health", NULL);
        next += 0.01;
        sleep_until(next);
    }
    return NULL;
}

static void *run_worker(void *arg) {
    struct worker *w = arg;
    return w->role == 0 ? agent_loop(w) : w->role == 1 ? dashboard_loop(w) : health_loop(w);
}

// 100 ids from the first list pages, as {"ids":[...]}.
static int load_compare_ids(void) {
    struct conn *c = calloc(1, sizeof *c);
    c->fd = -1;
    int len = snprintf(compare_body, sizeof compare_body, "{\"ids\":[");
    int found = 0;
    if (exchange(c, "GET", "/api/v1/results/?per_page=100&page=3", NULL) != 200) return -1;
    for (char *p = c->buf; found < 100 && (p = strstr(p, "{\"id\":\"")); p += 7) {
        len += snprintf(compare_body + len, sizeof compare_body - len, "%s\"%.16s\"", found ? "," : "", p + 7);
        found++;
    }
    snprintf(compare_body + len, sizeof compare_body - len, "]}");
    close(c->fd);
    free(c);
    return found;
}

static int percentile_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(struct samples *all, double elapsed) {
    for (int k = 0; k < KINDS; k++) {
        struct samples *s = &all[k];
        if (!s->n && !s->errors) continue;
        qsort(s->ms, s->n, sizeof(double), percentile_cmp);
        double p50 = s->n ? s->ms[s->n / 2] : 0, p99 = s->n ? s->ms[(long)(s->n * 0.99)] : 0;
        double max = s->n ? s->ms[s->n - 1] : 0;
        printf("kind=%s n=%ld rate=%.1f/s p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%ld errors=%ld%s%s\n",
               kind_names[k], s->n, s->n / elapsed, p50, p99, max, s->non2xx, s->errors, s->first[0] ? " first=" : "",
               s->first);
    }
}

static void merge(struct samples *into, struct samples *from) {
    for (long i = 0; i < from->n; i++) record(into, from->ms[i]);
    into->non2xx += from->non2xx;
    into->errors += from->errors;
    if (!into->first[0]) memcpy(into->first, from->first, sizeof into->first);
}

static int mixed(void) {
    int found = load_compare_ids();
    if (found < 100) {
        fprintf(stderr, "scalebench: could not read 100 result ids (got %d)\n", found);
        return 1;
    }
    enum { NW = 7 };
    struct worker *w = calloc(NW, sizeof *w);
    for (int i = 0; i < NW; i++) {
        w[i].role = i == 0 ? 0 : i < 3 ? 1 : 2;
        w[i].seed = 1234 + i;
        pthread_create(&w[i].thread, NULL, run_worker, &w[i]);
    }
    sleep_until(started + seconds);
    stop = 1;
    struct samples total[KINDS] = {0};
    for (int i = 0; i < NW; i++) {
        pthread_join(w[i].thread, NULL);
        for (int k = 0; k < KINDS; k++) merge(&total[k], &w[i].s[k]);
    }
    report(total, now() - started);
    return 0;
}

// ---------------------------------------------------------------- flood

static void *flood_loop(void *arg) {
    struct worker *w = arg;
    struct conn *c = calloc(1, sizeof *c);
    c->fd = -1;
    char path[256], body[4096];
    snprintf(path, sizeof path, "/api/v1/agents/%s/results", agent);
    while (!stop) {
        result_body(body, sizeof body, 500000000L + (long)w->seed * 10000000L + w->serial++, now_timestamps);
        timed(&w->s[POST], c, "POST", path, body);
    }
    return NULL;
}

static int flood(int connections) {
    struct worker *w = calloc(connections, sizeof *w);
    for (int i = 0; i < connections; i++) {
        w[i].seed = i;
        pthread_create(&w[i].thread, NULL, flood_loop, &w[i]);
    }
    sleep_until(started + seconds);
    stop = 1;
    struct samples total[KINDS] = {0};
    for (int i = 0; i < connections; i++) {
        pthread_join(w[i].thread, NULL);
        merge(&total[POST], &w[i].s[POST]);
    }
    report(total, now() - started);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 8 || (strcmp(argv[1], "mixed") && strcmp(argv[1], "flood") && strcmp(argv[1], "flood-now"))) {
        fprintf(stderr, "usage: scalebench mixed|flood|flood-now HOST PORT TOKEN AGENT_ID SECONDS TOTAL|CONNECTIONS\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    host = argv[2];
    port = atoi(argv[3]);
    token = argv[4];
    agent = argv[5];
    seconds = atof(argv[6]);
    if (load_newest_timestamp() != 0) {
        fprintf(stderr, "scalebench: could not read the newest stored result (GET /api/v1/results/?per_page=1)\n");
        return 1;
    }
    started = now();
    if (!strcmp(argv[1], "mixed")) {
        total_results = atol(argv[7]);
        return mixed();
    }
    now_timestamps = !strcmp(argv[1], "flood-now");
    return flood(atoi(argv[7]));
}
