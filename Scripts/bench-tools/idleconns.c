// idleconns: opens N plain TCP connections to HOST:PORT, sends one keep-alive
// "GET PATH" on each and reads its answer (so the server has really accepted and parsed
// on every one), then holds them all open, idle. Prints "READY opened=N" once they are
// all open, waits HOLD seconds (or until SIGTERM), then checks how many are still open
// (not closed by the server) and prints "DONE alive=K".
//
//   idleconns HOST PORT N HOLD [PATH] [--silent]    (--silent: send nothing at all)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

// Reads one HTTP answer (head + Content-Length body). Returns the status or -1.
static int read_answer(int fd) {
    char buf[8192];
    size_t have = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0) return -1;
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0) return -1;
        have += n;
        buf[have] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        long length = 0;
        char *cl = strcasestr(buf, "\r\ncontent-length:");
        if (cl && cl < end) length = atol(cl + 17);
        if ((size_t)(end + 4 - buf) + length <= have) {
            int status = 0;
            sscanf(buf, "HTTP/1.%*d %d", &status);
            return status;
        }
        if (have >= sizeof buf - 1) return -1;
    }
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: idleconns HOST PORT N HOLD [PATH] [--silent]\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    int n = atoi(argv[3]);
    double hold = atof(argv[4]);
    const char *path = "/api/v1/health";
    int silent = 0;
    for (int i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--silent") == 0) silent = 1;
        else path = argv[i];
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &addr.sin_addr);
    char request[512];
    int reqlen = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: idleconns\r\n\r\n", path);

    int *fds = calloc(n, sizeof *fds);
    int opened = 0, bad = 0;
    const char *firsterr = NULL;
    for (int i = 0; i < n && !stop; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) { firsterr = firsterr ? firsterr : strerror(errno); bad++; break; }
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
            firsterr = firsterr ? firsterr : strerror(errno);
            close(fd);
            bad++;
            continue;
        }
        if (!silent) {
            int status = -1;
            if (write(fd, request, reqlen) == reqlen) status = read_answer(fd);
            if (status != 200) {
                if (!firsterr) firsterr = status < 0 ? "no answer / closed" : "non-200 answer";
                close(fd);
                bad++;
                continue;
            }
        }
        fds[opened++] = fd;
    }
    printf("READY opened=%d failed=%d%s%s\n", opened, bad, firsterr ? " first_error=" : "", firsterr ? firsterr : "");
    fflush(stdout);

    struct timespec start, t;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!stop) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - start.tv_sec + (t.tv_nsec - start.tv_nsec) / 1e9 >= hold) break;
        usleep(50 * 1000);
    }
    int alive = 0;
    char byte;
    for (int i = 0; i < opened; i++) {
        ssize_t r = recv(fds[i], &byte, 1, MSG_DONTWAIT | MSG_PEEK);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) alive++;
    }
    printf("DONE alive=%d of %d\n", alive, opened);
    fflush(stdout);
    return 0;
}
