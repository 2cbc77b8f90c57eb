/*
 * xna-perf: a tiny netperf for the xen-net-accel measurements
 *
 * One static binary runs both ends of a measurement.  A guest starts
 * "xna-perf agent PORT" once; the test then drives it from outside with
 * "xna-perf ctl HOST PORT CMD ARGS..." and runs the other end of each
 * measurement itself, so that the guest needs nothing but this binary.
 *
 *   xna-perf agent PORT
 *       Listen on TCP PORT and, forever, serve each control connection
 *       in a process of its own (so that a command, say a profiler, can
 *       run while another measures): read one command line (at most 512
 *       bytes with its '\n', within 10 s), split it on spaces, run it as
 *       one of the commands below with every line it prints sent to the
 *       connection, then close the connection.  A failing command prints
 *       "error MESSAGE" and the agent goes on; "agent" and "ctl" are
 *       refused.
 *
 *   xna-perf ctl HOST PORT CMD [ARGS...]
 *       Connect to an agent (retrying for 10 s), send "CMD ARGS...\n" and
 *       copy its output to stdout until it closes.  Exit 0, or 1 when a
 *       line started with "error" or the agent said nothing for 120 s.
 *
 * The measuring commands print one "ready" line once their sockets are
 * set up, before any traffic can start, and one result line at the end:
 * "CMD key=value ...", always with secs=S (the measured window, CLOCK_
 * MONOTONIC), cpu=J (busy ticks of the whole machine over the window:
 * user+nice+system+irq+softirq+steal of /proc/stat's "cpu " line) and
 * self=T (this process's own user+system ticks over the window, so that
 * a benchmark can leave its own load generator out) and hz=H
 * (sysconf(_SC_CLK_TCK)), so that cpu / hz / secs is the number of CPUs
 * kept busy.
 *
 *   xna-perf udp-rx PORT SECS
 *       Count the datagrams on UDP PORT.  The window opens at the first
 *       datagram and closes SECS seconds later, or at the last datagram
 *       when none came for 2 s (its CPU ticks then end within 20 ms of
 *       that datagram).  "udp-rx pkts=N bytes=B ..."; pkts=0 (and
 *       exit 1) when nothing came within SECS + 10 s.
 *   xna-perf udp-tx HOST PORT SIZE SECS
 *       Send datagrams of SIZE (1..9000) bytes, the first 4 of them a
 *       big-endian sequence number, as fast as a blocking socket goes for
 *       SECS seconds.  A send failing with ENOBUFS, EAGAIN or ECONNREFUSED
 *       counts as an error and sending goes on.
 *       "udp-tx pkts=N bytes=B errors=E ..."
 *   xna-perf tcp-rx PORT
 *       Accept one connection on TCP PORT and read it until EOF; the
 *       window is accept to EOF.  "tcp-rx bytes=B ..."; bytes=0 (and exit
 *       1) when no connection came within 60 s.
 *   xna-perf tcp-tx HOST PORT SECS
 *       Connect (retrying for 10 s), write for SECS seconds, shut down
 *       the sending side and wait for EOF, so that the receiver has it
 *       all; the window is connect to EOF.  "tcp-tx bytes=B ..."
 *   xna-perf rr-srv PORT
 *       Accept one connection on TCP PORT and echo it, a byte at a time,
 *       until EOF.  "rr-srv trans=N ..."; trans=0 (and exit 1) when no
 *       connection came within 60 s.
 *   xna-perf rr-cli HOST PORT SECS
 *       Connect (retrying for 10 s) and, for SECS seconds, write one byte
 *       and read it back (a transaction).  "rr-cli trans=N ..."
 *
 * And, to look at or turn the knobs of a guest through its agent:
 *
 *   xna-perf read PATH...      "read PATH <first line of PATH>" for each
 *                              PATH, or "read PATH error <strerror>"
 *   xna-perf set PATH VALUE    write VALUE (no newline) to PATH, "set ok"
 *   xna-perf sleep SECS        "ready", sleep, "sleep secs=S"
 *   xna-perf insmod PATH       load the kernel module PATH, "insmod ok"
 *   xna-perf rmmod NAME        unload the kernel module NAME, "rmmod ok"
 *                              (the benchmark's plain configuration is
 *                              the same guest without the module)
 *   xna-perf run PROG [ARGS...]
 *                              run the program PROG (a path: no shell, no
 *                              PATH lookup) with stdout and stderr sent
 *                              to the connection, then "run exit=N" (N
 *                              128+signal when killed) and, unless N
 *                              is 0, an error.  For a profiler in the
 *                              guest.
 *
 * HOST is a dotted IPv4 address.  A stream that stalls for 60 s fails,
 * so that an agent never hangs on a vanished peer.  Errors go to stderr
 * as "xna-perf: CMD: MESSAGE" (and, in an agent, to the connection as
 * "error CMD: MESSAGE"); exit 2 for bad arguments and setup errors, 1
 * when a measurement failed or saw no traffic.  Static and libc-only,
 * so that busybox guests and bare network namespaces can run it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE             /* accept4 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CMD_LINE_MAX    512             /* a control command, with '\n' */
#define CMD_ARGS_MAX    64
#define CMD_READ_SECS   10
#define CTL_IDLE_SECS   120
#define CONNECT_SECS    10
#define RETRY_MS        100
#define ACCEPT_SECS     60
#define STALL_SECS      60              /* a stream this long stuck is dead */
#define UDP_IDLE_SECS   2
#define UDP_WAIT_SECS   10              /* beyond SECS, for the first one */
#define UDP_POLL_MS     20
#define UDP_SIZE_MAX    9000
#define UDP_RCVBUF      (4 * 1024 * 1024)
#define UDP_CLOCK_EVERY 64
#define TCP_RX_BUF      (256 * 1024)
#define TCP_TX_BUF      (64 * 1024)
#define SECS_MAX        86400

enum {
    RC_OK = 0,
    RC_FAIL = 1,        /* a measurement failed or saw nothing */
    RC_SETUP = 2,       /* a socket, file or clock could not be set up */
    RC_USAGE = 3,       /* bad arguments: exit 2 after the usage */
};

static FILE *out;               /* results: stdout, or an agent's client */
static int in_agent;            /* serving a control connection */
static const char *cur_cmd;     /* the running command, for messages */

/* Measured window: monotonic seconds and busy CPU ticks at both ends. */
typedef struct Window {
    double t0, t1;
    long long cpu0, cpu1;
    long long self0, self1;     /* this process's own CPU ticks */
} Window;

typedef struct Cmd {
    const char *name;
    const char *args;
    int min_args, max_args;     /* max_args -1: any number */
    int agent_ok;
    int (*run)(int argc, char **argv);
} Cmd;

/*
 * Report a failure of the running command: to stderr, and as an "error"
 * line to the control connection when serving one.
 */
static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "xna-perf: %s%s%s\n", cur_cmd ? cur_cmd : "",
            cur_cmd ? ": " : "", msg);
    if (in_agent) {
        fprintf(out, "error %s: %s\n", cur_cmd, msg);
    }
}

/* A failed call, from errno; returns RC_SETUP for the caller's use. */
static int fail_sys(const char *what)
{
    fail("%s: %s", what, strerror(errno));
    return RC_SETUP;
}

static double mono(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts)) {
        perror("xna-perf: clock_gettime");
        exit(RC_SETUP);
    }
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Milliseconds until monotonic time @end, 0 when past. */
static int ms_until(double end)
{
    double ms = (end - mono()) * 1000;

    return ms <= 0 ? 0 : (int)ms + 1;
}

static int nap_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts)) {
        if (errno != EINTR) {
            return fail_sys("nanosleep");
        }
    }
    return 0;
}

/* Busy ticks of the whole machine so far, or -1 if /proc/stat fails. */
static long long cpu_busy(void)
{
    unsigned long long v[8] = { 0 };
    char line[512];
    FILE *f = fopen("/proc/stat", "r");
    int n = 0;

    if (!f) {
        return -1;
    }
    if (fgets(line, sizeof(line), f) && !strncmp(line, "cpu ", 4)) {
        n = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu",
                   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    }
    fclose(f);
    if (n < 7) {                /* steal came with Linux 2.6.11 */
        return -1;
    }
    /* user nice system [idle iowait] irq softirq steal */
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

/* Whether the CPU ticks can be measured at all (a setup check). */
static int cpu_check(void)
{
    if (cpu_busy() < 0) {
        fail("/proc/stat: no \"cpu \" line to read");
        return -1;
    }
    return 0;
}

/* User + system CPU ticks of this process. */
static long long self_ticks(void)
{
    struct tms t;

    if (times(&t) == (clock_t)-1) {
        return -1;
    }
    return (long long)t.tms_utime + t.tms_stime;
}

static void window_open(Window *w)
{
    w->self0 = self_ticks();
    w->self1 = w->self0;
    w->cpu0 = cpu_busy();
    w->t0 = mono();
    w->t1 = w->t0;
    w->cpu1 = w->cpu0;
}

static void window_close(Window *w)
{
    w->t1 = mono();
    w->cpu1 = cpu_busy();
    w->self1 = self_ticks();
}

static void ready(void)
{
    fprintf(out, "ready\n");
    fflush(out);
}

/* The result line: "CMD " @fmt " secs=S cpu=J hz=H". */
static void __attribute__((format(printf, 2, 3)))
result(const Window *w, const char *fmt, ...)
{
    long long cpu = w->cpu0 < 0 || w->cpu1 < 0 ? -1 : w->cpu1 - w->cpu0;
    long long self = w->self0 < 0 || w->self1 < 0 ? -1 : w->self1 - w->self0;
    va_list ap;

    fprintf(out, "%s ", cur_cmd);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fprintf(out, " secs=%.3f cpu=%lld self=%lld hz=%ld\n",
            w->t1 - w->t0, cpu, self, sysconf(_SC_CLK_TCK));
    fflush(out);
}

/* Parse a decimal @s into @v within [min, max]; -1 (reported) if not. */
static int num_arg(const char *s, const char *name, unsigned long min,
                   unsigned long max, unsigned long *v)
{
    char *end;

    errno = 0;
    if (*s >= '0' && *s <= '9') {
        *v = strtoul(s, &end, 10);
        if (!errno && !*end && *v >= min && *v <= max) {
            return 0;
        }
    }
    fail("bad %s '%s' (want %lu..%lu)", name, s, min, max);
    return -1;
}

/* HOST and PORT arguments into @sa; -1 (reported) if bad. */
static int addr_args(const char *host, const char *port,
                     struct sockaddr_in *sa)
{
    unsigned long p;

    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        fail("bad HOST '%s' (want a dotted IPv4 address)", host);
        return -1;
    }
    if (num_arg(port, "PORT", 1, 65535, &p)) {
        return -1;
    }
    sa->sin_port = htons(p);
    return 0;
}

static int set_timeout(int fd, int opt, int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

    if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv))) {
        fail_sys(opt == SO_RCVTIMEO ? "SO_RCVTIMEO" : "SO_SNDTIMEO");
        return -1;
    }
    return 0;
}

static int set_nodelay(int fd)
{
    int one = 1;

    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))) {
        fail_sys("TCP_NODELAY");
        return -1;
    }
    return 0;
}

/* A socket of @type bound to @port on any IPv4 address; -1 (reported). */
static int bound_socket(int type, unsigned long port)
{
    struct sockaddr_in sa = {
        .sin_family = AF_INET,
        .sin_port = htons(port),
        .sin_addr.s_addr = htonl(INADDR_ANY),
    };
    const char *what;
    int one = 1, fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        fail_sys("socket");
        return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) {
        what = "SO_REUSEADDR";
    } else if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        what = "bind";
    } else if (type == SOCK_STREAM && listen(fd, 16)) {
        what = "listen";
    } else {
        return fd;
    }
    fail_sys(what);
    close(fd);
    return -1;
}

/*
 * Accept one connection on @lfd within @secs seconds: its fd, -2 when
 * none came, -1 (reported) on errors.
 */
static int accept_within(int lfd, int secs)
{
    struct pollfd p = { .fd = lfd, .events = POLLIN };
    double end = mono() + secs;
    int r, fd;

    do {
        r = poll(&p, 1, ms_until(end));
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
        return -2;
    }
    fd = r < 0 ? r : accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        fail_sys(r < 0 ? "poll" : "accept");
    }
    return fd;
}

/* One connect attempt, given up at @end: 0 with *@fdp, or an errno. */
static int connect_once(const struct sockaddr_in *sa, double end, int *fdp)
{
    struct pollfd p = { .events = POLLOUT };
    socklen_t len = sizeof(int);
    int r, err = 0, fd;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
        err = errno;
    }
    if (err == EINPROGRESS) {
        p.fd = fd;
        r = poll(&p, 1, ms_until(end));
        if (r < 0) {
            err = errno;
        } else if (r == 0) {
            err = ETIMEDOUT;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)) {
            err = errno;
        }
    }
    if (!err && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
        err = errno;
    }
    if (err) {
        close(fd);
        return err;
    }
    *fdp = fd;
    return 0;
}

/* Connect to @sa, retrying every 100 ms for 10 s: fd, or -1 (reported). */
static int connect_retry(const struct sockaddr_in *sa)
{
    double end = mono() + CONNECT_SECS;
    int fd = -1, err;

    while ((err = connect_once(sa, end, &fd))) {
        if (ms_until(end) <= RETRY_MS) {
            errno = err;
            fail_sys("connect");
            return -1;
        }
        if (nap_ms(RETRY_MS)) {
            return -1;
        }
    }
    return fd;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    ssize_t r;

    while (len) {
        r = write(fd, p, len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return -1;
        }
        p += r;
        len -= r;
    }
    return 0;
}

/* Read @fd until EOF, throwing the data away: 0, or -1 (reported). */
static int drain(int fd, void *buf, size_t size)
{
    ssize_t r;

    while ((r = read(fd, buf, size))) {
        if (r < 0 && errno != EINTR) {
            fail_sys(errno == EAGAIN ? "read: peer stalled" : "read");
            return -1;
        }
    }
    return 0;
}

/* udp-rx PORT SECS */
static void udp_rcvbuf(int fd)
{
    int size = UDP_RCVBUF;

    /* FORCE passes net.core.rmem_max when allowed; either may fail. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size))) {
        (void)!setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    }
}

static int udp_rx_loop(int fd, unsigned long secs, Window *w,
                       uint64_t *pkts, uint64_t *bytes)
{
    static char buf[65536];
    double give_up = mono() + secs + UDP_WAIT_SECS, deadline = 0, last = 0;
    double now;
    long long cpu_pause = 0;    /* busy ticks at the pause in traffic */
    int paused = 0;
    ssize_t r;

    for (;;) {
        r = recv(fd, buf, sizeof(buf), 0);
        now = mono();
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != EINTR) {
            fail_sys("recv");
            return -1;
        }
        if (*pkts && now >= deadline) {
            window_close(w);
            w->t1 = deadline;   /* a datagram now is one too late */
            return 0;
        }
        if (r >= 0) {
            if (!*pkts) {
                window_open(w);
                deadline = w->t0 + secs;
            }
            ++*pkts;
            *bytes += r;
            last = now;
            paused = 0;
        } else if (*pkts && !paused) {
            cpu_pause = cpu_busy();
            paused = 1;
        }
        if (!*pkts) {
            if (now >= give_up) {
                return 0;
            }
        } else if (now - last >= UDP_IDLE_SECS) {
            w->t1 = last;       /* the sender stopped early */
            w->cpu1 = cpu_pause;
            return 0;
        }
    }
}

static int do_udp_rx(int argc, char **argv)
{
    unsigned long port, secs;
    uint64_t pkts = 0, bytes = 0;
    Window w = { 0 };
    int fd, rc = RC_FAIL;

    (void)argc;
    if (num_arg(argv[0], "PORT", 1, 65535, &port) ||
        num_arg(argv[1], "SECS", 1, SECS_MAX, &secs)) {
        return RC_USAGE;
    }
    if (cpu_check() || (fd = bound_socket(SOCK_DGRAM, port)) < 0) {
        return RC_SETUP;
    }
    udp_rcvbuf(fd);
    if (set_timeout(fd, SO_RCVTIMEO, UDP_POLL_MS)) {
        close(fd);
        return RC_SETUP;
    }
    ready();
    if (!udp_rx_loop(fd, secs, &w, &pkts, &bytes)) {
        result(&w, "pkts=%" PRIu64 " bytes=%" PRIu64, pkts, bytes);
        rc = pkts ? RC_OK : RC_FAIL;
    }
    close(fd);
    return rc;
}

/* udp-tx HOST PORT SIZE SECS */
static int udp_send_one(int fd, unsigned char *buf, size_t size,
                        uint64_t *pkts, uint64_t *errors)
{
    uint32_t seq = htonl((uint32_t)*pkts);
    ssize_t r;

    memcpy(buf, &seq, size < sizeof(seq) ? size : sizeof(seq));
    r = send(fd, buf, size, 0);
    if (r == (ssize_t)size) {
        ++*pkts;
    } else if (r < 0 && (errno == ENOBUFS || errno == EAGAIN ||
                         errno == EWOULDBLOCK || errno == ECONNREFUSED)) {
        ++*errors;
    } else if (r < 0) {
        fail_sys("send");
        return -1;
    } else {
        fail("send: %zd of %zu bytes", r, size);
        return -1;
    }
    return 0;
}

static int do_udp_tx(int argc, char **argv)
{
    static unsigned char buf[UDP_SIZE_MAX];
    struct sockaddr_in dst;
    unsigned long size, secs;
    uint64_t pkts = 0, errors = 0;
    Window w;
    double end;
    int fd, i;

    (void)argc;
    if (addr_args(argv[0], argv[1], &dst) ||
        num_arg(argv[2], "SIZE", 1, UDP_SIZE_MAX, &size) ||
        num_arg(argv[3], "SECS", 1, SECS_MAX, &secs)) {
        return RC_USAGE;
    }
    if (cpu_check()) {
        return RC_SETUP;
    }
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return fail_sys("socket");
    }
    if (connect(fd, (struct sockaddr *)&dst, sizeof(dst))) {
        fail_sys("connect");
        close(fd);
        return RC_SETUP;
    }
    memset(buf, 0xa5, sizeof(buf));
    ready();
    window_open(&w);
    end = w.t0 + secs;
    do {
        for (i = 0; i < UDP_CLOCK_EVERY; i++) {
            if (udp_send_one(fd, buf, size, &pkts, &errors)) {
                close(fd);
                return RC_FAIL;
            }
        }
    } while (mono() < end);
    window_close(&w);
    result(&w, "pkts=%" PRIu64 " bytes=%" PRIu64 " errors=%" PRIu64,
           pkts, pkts * size, errors);
    close(fd);
    return RC_OK;
}

/*
 * The server side of tcp-rx and rr-srv: listen on PORT, say ready and
 * accept one connection.  The connection's fd; -2 when none came (the
 * listener is closed either way); -1 (reported) on errors.
 */
static int serve_one(const char *port_arg, int *rc)
{
    unsigned long port;
    int lfd, fd;

    *rc = RC_USAGE;
    if (num_arg(port_arg, "PORT", 1, 65535, &port)) {
        return -1;
    }
    *rc = RC_SETUP;
    if (cpu_check() || (lfd = bound_socket(SOCK_STREAM, port)) < 0) {
        return -1;
    }
    ready();
    fd = accept_within(lfd, ACCEPT_SECS);
    close(lfd);
    if (fd == -2) {
        *rc = RC_FAIL;
        return -2;
    }
    if (fd < 0) {
        return -1;
    }
    if (set_timeout(fd, SO_RCVTIMEO, STALL_SECS * 1000)) {
        close(fd);
        return -1;
    }
    *rc = RC_OK;
    return fd;
}

/* The client side of tcp-tx and rr-cli: say ready, connect. */
static int connect_to(const char *host, const char *port, int *rc)
{
    struct sockaddr_in dst;
    int fd;

    *rc = RC_USAGE;
    if (addr_args(host, port, &dst)) {
        return -1;
    }
    *rc = RC_SETUP;
    if (cpu_check()) {
        return -1;
    }
    ready();
    fd = connect_retry(&dst);
    if (fd < 0) {
        return -1;
    }
    if (set_timeout(fd, SO_RCVTIMEO, STALL_SECS * 1000) ||
        set_timeout(fd, SO_SNDTIMEO, STALL_SECS * 1000)) {
        close(fd);
        return -1;
    }
    *rc = RC_OK;
    return fd;
}

/* tcp-rx PORT */
static int do_tcp_rx(int argc, char **argv)
{
    static char buf[TCP_RX_BUF];
    uint64_t bytes = 0;
    Window w = { 0 };
    ssize_t r;
    int fd, rc;

    (void)argc;
    fd = serve_one(argv[0], &rc);
    if (fd == -2) {
        result(&w, "bytes=0");
    }
    if (fd < 0) {
        return rc;
    }
    window_open(&w);
    while ((r = read(fd, buf, sizeof(buf)))) {
        if (r > 0) {
            bytes += r;
        } else if (errno != EINTR) {
            fail_sys(errno == EAGAIN ? "read: sender stalled" : "read");
            close(fd);
            return RC_FAIL;
        }
    }
    window_close(&w);
    result(&w, "bytes=%" PRIu64, bytes);
    close(fd);
    return RC_OK;
}

/* tcp-tx HOST PORT SECS */
static int tcp_tx_loop(int fd, double end, uint64_t *bytes)
{
    static char buf[TCP_TX_BUF];
    ssize_t r;

    memset(buf, 0x5a, sizeof(buf));
    while (mono() < end) {
        r = write(fd, buf, sizeof(buf));
        if (r > 0) {
            *bytes += r;
        } else if (r < 0 && errno != EINTR) {
            fail_sys(errno == EAGAIN ? "write: receiver stalled" : "write");
            return -1;
        }
    }
    if (shutdown(fd, SHUT_WR)) {
        fail_sys("shutdown");
        return -1;
    }
    return drain(fd, buf, sizeof(buf));
}

static int do_tcp_tx(int argc, char **argv)
{
    unsigned long secs;
    uint64_t bytes = 0;
    Window w;
    int fd, rc;

    (void)argc;
    if (num_arg(argv[2], "SECS", 1, SECS_MAX, &secs)) {
        return RC_USAGE;
    }
    fd = connect_to(argv[0], argv[1], &rc);
    if (fd < 0) {
        return rc;
    }
    window_open(&w);
    if (tcp_tx_loop(fd, w.t0 + secs, &bytes)) {
        close(fd);
        return RC_FAIL;
    }
    window_close(&w);
    result(&w, "bytes=%" PRIu64, bytes);
    close(fd);
    return RC_OK;
}

/* rr-srv PORT */
static int do_rr_srv(int argc, char **argv)
{
    uint64_t trans = 0;
    Window w = { 0 };
    ssize_t r;
    char c;
    int fd, rc;

    (void)argc;
    fd = serve_one(argv[0], &rc);
    if (fd == -2) {
        result(&w, "trans=0");
    }
    if (fd < 0) {
        return rc;
    }
    if (set_nodelay(fd)) {
        close(fd);
        return RC_SETUP;
    }
    window_open(&w);
    while ((r = read(fd, &c, 1))) {
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 || write_all(fd, &c, 1)) {
            fail_sys(r < 0 ? "read" : "write");
            close(fd);
            return RC_FAIL;
        }
        trans++;
    }
    window_close(&w);
    result(&w, "trans=%" PRIu64, trans);
    close(fd);
    return RC_OK;
}

/* rr-cli HOST PORT SECS */
static int rr_one(int fd)
{
    char c = 'x';
    ssize_t r;

    if (write_all(fd, &c, 1)) {
        fail_sys("write");
        return -1;
    }
    do {
        r = read(fd, &c, 1);
    } while (r < 0 && errno == EINTR);
    if (r <= 0) {
        fail_sys(r ? "read" : "read: the server closed the connection");
        return -1;
    }
    return 0;
}

static int do_rr_cli(int argc, char **argv)
{
    unsigned long secs;
    uint64_t trans = 0;
    Window w;
    double end;
    int fd, rc;

    (void)argc;
    if (num_arg(argv[2], "SECS", 1, SECS_MAX, &secs)) {
        return RC_USAGE;
    }
    fd = connect_to(argv[0], argv[1], &rc);
    if (fd < 0) {
        return rc;
    }
    if (set_nodelay(fd)) {
        close(fd);
        return RC_SETUP;
    }
    window_open(&w);
    end = w.t0 + secs;
    while (mono() < end) {
        if (rr_one(fd)) {
            close(fd);
            return RC_FAIL;
        }
        trans++;
    }
    close(fd);
    window_close(&w);
    result(&w, "trans=%" PRIu64, trans);
    return RC_OK;
}

/* read PATH... */
static int first_line(const char *path, char *buf, size_t size)
{
    size_t len = 0;
    ssize_t r;
    int fd = open(path, O_RDONLY | O_CLOEXEC), err;

    if (fd < 0) {
        return -1;
    }
    while (len < size - 1 && !memchr(buf, '\n', len)) {
        r = read(fd, buf + len, size - 1 - len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            err = errno;
            close(fd);
            errno = err;
            return -1;
        }
        if (r == 0) {
            break;
        }
        len += r;
    }
    close(fd);
    buf[len] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

static int do_read(int argc, char **argv)
{
    char line[4096];
    int i, rc = RC_OK;

    for (i = 0; i < argc; i++) {
        if (first_line(argv[i], line, sizeof(line))) {
            fprintf(out, "read %s error %s\n", argv[i], strerror(errno));
            rc = RC_FAIL;
        } else {
            fprintf(out, "read %s %s\n", argv[i], line);
        }
    }
    return rc;
}

/* set PATH VALUE */
static int do_set(int argc, char **argv)
{
    int fd = open(argv[0], O_WRONLY | O_TRUNC | O_CLOEXEC);

    (void)argc;
    if (fd < 0) {
        fail("open %s: %s", argv[0], strerror(errno));
        return RC_FAIL;
    }
    if (write_all(fd, argv[1], strlen(argv[1]))) {
        fail("write %s: %s", argv[0], strerror(errno));
        close(fd);
        return RC_FAIL;
    }
    if (close(fd)) {
        fail("close %s: %s", argv[0], strerror(errno));
        return RC_FAIL;
    }
    fprintf(out, "set ok\n");
    return RC_OK;
}

/* sleep SECS */
static int do_sleep(int argc, char **argv)
{
    unsigned long secs;
    struct timespec ts = { 0, 0 };
    double t0;

    (void)argc;
    if (num_arg(argv[0], "SECS", 0, SECS_MAX, &secs)) {
        return RC_USAGE;
    }
    ready();
    t0 = mono();
    ts.tv_sec = secs;
    while (nanosleep(&ts, &ts)) {
        if (errno != EINTR) {
            fail_sys("nanosleep");
            return RC_FAIL;
        }
    }
    fprintf(out, "sleep secs=%.3f\n", mono() - t0);
    return RC_OK;
}

/* insmod PATH */
static int do_insmod(int argc, char **argv)
{
    int fd = open(argv[0], O_RDONLY | O_CLOEXEC);

    (void)argc;
    if (fd < 0) {
        fail("open %s: %s", argv[0], strerror(errno));
        return RC_FAIL;
    }
    if (syscall(SYS_finit_module, fd, "", 0)) {
        fail("finit_module %s: %s", argv[0], strerror(errno));
        close(fd);
        return RC_FAIL;
    }
    close(fd);
    fprintf(out, "insmod ok\n");
    return RC_OK;
}

/* rmmod NAME: as rmmod(8), never forced */
static int do_rmmod(int argc, char **argv)
{
    (void)argc;
    if (syscall(SYS_delete_module, argv[0], O_NONBLOCK)) {
        fail("delete_module %s: %s", argv[0], strerror(errno));
        return RC_FAIL;
    }
    fprintf(out, "rmmod ok\n");
    return RC_OK;
}

static int dispatch(int argc, char **argv);

/* ctl HOST PORT CMD [ARGS...] */
static int ctl_line(int argc, char **argv, char *line, size_t size)
{
    size_t len = 0, n;
    int i;

    for (i = 0; i < argc; i++) {
        n = strlen(argv[i]);
        if (strpbrk(argv[i], " \t\r\n") || !n) {
            fail("bad argument '%s' (empty or with blanks)", argv[i]);
            return -1;
        }
        if (len + n + 1 > size) {
            fail("command longer than %zu bytes", size);
            return -1;
        }
        memcpy(line + len, argv[i], n);
        len += n;
        line[len++] = i + 1 < argc ? ' ' : '\n';
    }
    return len;
}

/* Copy the agent's answer to stdout: 1 if a line began "error", or -1. */
static int ctl_copy(int fd)
{
    static const char tag[] = "error";
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char buf[4096];
    int r, i, pos = 0, saw_error = 0;
    ssize_t n;

    for (;;) {
        r = poll(&p, 1, CTL_IDLE_SECS * 1000);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r == 0) {
            fail("no answer from the agent for %d s", CTL_IDLE_SECS);
            return -1;
        }
        n = r < 0 ? r : read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fail_sys(r < 0 ? "poll" : "read");
            return -1;
        }
        if (n == 0) {
            return saw_error;
        }
        for (i = 0; i < n; i++) {
            /* pos: bytes of tag matched at this line's start, -1 none */
            if (buf[i] == '\n') {
                pos = 0;
            } else if (pos >= 0 && pos < 5 && buf[i] == tag[pos]) {
                saw_error |= ++pos == 5;
            } else {
                pos = -1;
            }
        }
        if (fwrite(buf, 1, n, stdout) != (size_t)n || fflush(stdout)) {
            fail_sys("stdout");
            return -1;
        }
    }
}

static int do_ctl(int argc, char **argv)
{
    struct sockaddr_in dst;
    char line[CMD_LINE_MAX];
    int fd, len, r;

    if (addr_args(argv[0], argv[1], &dst)) {
        return RC_USAGE;
    }
    len = ctl_line(argc - 2, argv + 2, line, sizeof(line));
    if (len < 0) {
        return RC_USAGE;
    }
    fd = connect_retry(&dst);
    if (fd < 0) {
        return RC_SETUP;
    }
    if (write_all(fd, line, len)) {
        fail_sys("send");
        close(fd);
        return RC_SETUP;
    }
    r = ctl_copy(fd);
    close(fd);
    return r ? RC_FAIL : RC_OK;
}

/* run PROG [ARGS...]: see the comment at the top */
static int do_run(int argc, char **argv)
{
    char *args[CMD_ARGS_MAX + 1];
    int fd = fileno(out), st, nul;
    pid_t pid;

    if (argc > CMD_ARGS_MAX) {
        fail("more than %d words", CMD_ARGS_MAX);
        return RC_USAGE;
    }
    memcpy(args, argv, argc * sizeof(*argv));
    args[argc] = NULL;
    fflush(NULL);               /* nothing buffered twice */
    pid = fork();
    if (pid < 0) {
        return fail_sys("fork");
    }
    if (pid == 0) {
        /* What the agent ignores, the program must not inherit. */
        signal(SIGPIPE, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nul < 0 || dup2(nul, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
            _exit(127);
        }
        execv(args[0], args);
        dprintf(fd, "error run: exec %s: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            return fail_sys("waitpid");
        }
    }
    st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    fprintf(out, "run exit=%d\n", st);
    if (st) {
        fail("%s exited with %d", args[0], st);
        return RC_FAIL;
    }
    return RC_OK;
}

/* agent PORT */
static int agent_read_line(int fd, char *buf, size_t size)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    double end = mono() + CMD_READ_SECS;
    size_t len = 0;
    ssize_t r;
    char *nl;

    while (len < size - 1) {
        r = poll(&p, 1, ms_until(end));
        if (r == 0) {
            fail("no command line within %d s", CMD_READ_SECS);
            return -1;
        }
        if (r > 0) {
            r = read(fd, buf + len, size - 1 - len);
        }
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            fail_sys("command line");
            return -1;
        }
        if (r == 0) {
            break;
        }
        len += r;
        buf[len] = 0;
        nl = memchr(buf, '\n', len);
        if (nl) {
            *nl = 0;
            return 0;
        }
    }
    buf[len] = 0;
    if (len == size - 1) {
        fail("command line longer than %zu bytes", size - 1);
        return -1;
    }
    return 0;                   /* EOF ends the line too */
}

static int agent_split(char *line, char **argv)
{
    char *save, *tok = strtok_r(line, " \t\r", &save);
    int argc = 0;

    for (; tok; tok = strtok_r(NULL, " \t\r", &save)) {
        if (argc == CMD_ARGS_MAX) {
            fail("more than %d words", CMD_ARGS_MAX);
            return -1;
        }
        argv[argc++] = tok;
    }
    if (!argc) {
        fail("empty command line");
    }
    return argc ? argc : -1;
}

static void agent_serve(int cfd)
{
    char line[CMD_LINE_MAX + 1], *argv[CMD_ARGS_MAX];
    FILE *f = fdopen(cfd, "w");
    int argc, rc = RC_FAIL;

    if (!f) {
        fail_sys("fdopen");
        close(cfd);
        return;
    }
    if (setvbuf(f, NULL, _IOLBF, 0)) {
        fail("setvbuf failed");
    }
    out = f;
    in_agent = 1;
    if (!agent_read_line(cfd, line, sizeof(line))) {
        printf("agent: run %s\n", line);
        argc = agent_split(line, argv);
        rc = argc < 0 ? RC_USAGE : dispatch(argc, argv);
    }
    in_agent = 0;
    out = stdout;
    cur_cmd = "agent";
    if (fclose(f)) {
        fail_sys("answer");
    }
    printf("agent: done rc=%d\n", rc == RC_USAGE ? RC_SETUP : rc);
}

static int do_agent(int argc, char **argv)
{
    unsigned long port;
    int lfd, cfd;
    pid_t pid;

    (void)argc;
    if (num_arg(argv[0], "PORT", 1, 65535, &port)) {
        return RC_USAGE;
    }
    lfd = bound_socket(SOCK_STREAM, port);
    if (lfd < 0) {
        return RC_SETUP;
    }
    /* The connections' processes are reaped by the kernel. */
    if (signal(SIGCHLD, SIG_IGN) == SIG_ERR) {
        return fail_sys("signal");
    }
    printf("agent: listening on port %lu\n", port);
    for (;;) {
        cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0) {
            fail_sys("accept");
            nap_ms(RETRY_MS);   /* EMFILE and the like: let it pass */
            continue;
        }
        fflush(NULL);
        pid = fork();
        if (pid < 0) {          /* serve it here, one at a time */
            fail_sys("fork");
            signal(SIGCHLD, SIG_DFL);   /* "run" waits for its child */
            agent_serve(cfd);
            signal(SIGCHLD, SIG_IGN);
            continue;
        }
        if (pid == 0) {
            /* "run" waits for its own child. */
            signal(SIGCHLD, SIG_DFL);
            close(lfd);
            agent_serve(cfd);
            fflush(NULL);
            _exit(0);
        }
        close(cfd);
    }
}

static const Cmd cmds[] = {
    { "agent",  "PORT",                    1,  1, 0, do_agent },
    { "ctl",    "HOST PORT CMD [ARGS...]", 3, -1, 0, do_ctl },
    { "udp-rx", "PORT SECS",               2,  2, 1, do_udp_rx },
    { "udp-tx", "HOST PORT SIZE SECS",     4,  4, 1, do_udp_tx },
    { "tcp-rx", "PORT",                    1,  1, 1, do_tcp_rx },
    { "tcp-tx", "HOST PORT SECS",          3,  3, 1, do_tcp_tx },
    { "rr-srv", "PORT",                    1,  1, 1, do_rr_srv },
    { "rr-cli", "HOST PORT SECS",          3,  3, 1, do_rr_cli },
    { "read",   "PATH...",                 1, -1, 1, do_read },
    { "set",    "PATH VALUE",              2,  2, 1, do_set },
    { "sleep",  "SECS",                    1,  1, 1, do_sleep },
    { "insmod", "PATH",                    1,  1, 1, do_insmod },
    { "rmmod",  "NAME",                    1,  1, 1, do_rmmod },
    { "run",    "PROG [ARGS...]",          1, -1, 1, do_run },
    { NULL },
};

/* Run the command @argv[0] with its arguments; an RC_* value. */
static int dispatch(int argc, char **argv)
{
    const Cmd *c;

    for (c = cmds; c->name && strcmp(c->name, argv[0]); c++) {
        /* look it up */
    }
    if (!c->name) {
        fail("unknown command '%s'", argv[0]);
        return RC_USAGE;
    }
    cur_cmd = c->name;
    if (in_agent && !c->agent_ok) {
        fail("refused inside an agent");
        return RC_USAGE;
    }
    if (argc - 1 < c->min_args ||
        (c->max_args >= 0 && argc - 1 > c->max_args)) {
        fail("usage: xna-perf %s %s", c->name, c->args);
        return RC_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}

static void usage(void)
{
    const Cmd *c;

    for (c = cmds; c->name; c++) {
        fprintf(stderr, "%s xna-perf %s %s\n",
                c == cmds ? "usage:" : "      ", c->name, c->args);
    }
}

int main(int argc, char **argv)
{
    int rc;

    if (setvbuf(stdout, NULL, _IOLBF, 0)) {
        fprintf(stderr, "xna-perf: setvbuf failed\n");
        return RC_SETUP;
    }
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        perror("xna-perf: signal");
        return RC_SETUP;
    }
    out = stdout;
    if (argc < 2) {
        usage();
        return RC_SETUP;
    }
    rc = dispatch(argc - 1, argv + 1);
    if (rc == RC_USAGE) {
        usage();
        return RC_SETUP;
    }
    return rc;
}
