#ifndef KITT_CSYSTEM_SHIM_H
#define KITT_CSYSTEM_SHIM_H
/* epoll and eventfd for KittNet's event loops. Glibc's Swift module does not export these
   headers, and struct epoll_event is packed on x86_64, so Swift sees only these wrappers. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

static const uint32_t kitt_EPOLLIN = EPOLLIN;
static const uint32_t kitt_EPOLLOUT = EPOLLOUT;
static const uint32_t kitt_EPOLLERR = EPOLLERR;
static const uint32_t kitt_EPOLLHUP = EPOLLHUP;
static const uint32_t kitt_EPOLLRDHUP = EPOLLRDHUP;

static inline int kitt_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static inline int kitt_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/* op: 1 add, 2 delete, 3 modify (EPOLL_CTL_*); the fd itself is the event's data. */
static inline int kitt_epoll_ctl(int epfd, int op, int fd, uint32_t events) {
    struct epoll_event event;
    event.events = events;
    event.data.u64 = 0;
    event.data.fd = fd;
    return epoll_ctl(epfd, op, fd, &event);
}

/* Waits for up to `max` events and unpacks them into parallel arrays; returns the count,
   0 on timeout, -1 with errno (EINTR included). */
static inline int kitt_epoll_wait(int epfd, int *fds, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event buffer[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, buffer, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        fds[i] = buffer[i].data.fd;
        events[i] = buffer[i].events;
    }
    return n;
}

static inline void kitt_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t ignored = write(fd, &one, sizeof one);
    (void)ignored;
}

static inline void kitt_eventfd_drain(int fd) {
    uint64_t value;
    ssize_t ignored = read(fd, &value, sizeof value);
    (void)ignored;
}
/* Relaxed atomic counters on plain memory (Swift's Atomic cannot live in an array): the
   metrics slots one event loop owns and a scrape sums. */
static inline void kitt_counter_add(uint64_t *slot, uint64_t value) {
    __atomic_fetch_add(slot, value, __ATOMIC_RELAXED);
}

static inline uint64_t kitt_counter_load(const uint64_t *slot) {
    return __atomic_load_n(slot, __ATOMIC_RELAXED);
}
#endif
