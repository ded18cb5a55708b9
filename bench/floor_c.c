/* The floor of bench/floor.py --mode sqlite, in C: what a compiled hot path could reach.
 *
 * Not a product and not part of the service: bench/control.py builds it (cc, libsqlite3) and
 * runs it as the target ``floor-c`` beside leasesync, bench/floor.py and Kea, so the question
 * "would a compiled lease4-update path meet the dedicated-listener target?" is answered by a
 * measurement in one run. It does exactly what floor.py's sqlite mode does, with no Python:
 *
 *   - one thread reads requests with epoll (keep-alive connections, Content-Length bodies);
 *   - a lease4-update's ip-address, hw-address, valid-lft and hostname are picked out of the
 *     body by a plain scan (less than a JSON parser does: this is a floor) and upserted into
 *     leasesync's own SQLite lease4 table (created by `leasesync db upgrade`, Kea's columns and
 *     indexes, leasesync's statistics triggers) in the open transaction;
 *   - when no fsync is running, the transaction commits (WAL, synchronous NORMAL) and a second
 *     thread fsyncs the WAL; each request is answered only after an fsync that began after its
 *     commit. Any other command is answered at once with the same fixed answer.
 *
 *   cc -O2 -o /tmp/floor_c bench/floor_c.c -lsqlite3 -lpthread
 *   /tmp/floor_c PORT DATABASE     (control.py does both)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 4096
#define BUF_SIZE 65536

static const char ANSWER[] = "[ { \"result\": 0, \"text\": \"IPv4 lease updated.\" } ]";
static char response[256];
static size_t response_len;

static const char UPSERT[] =
    "INSERT INTO lease4 (address, hwaddr, client_id, valid_lifetime, expire, subnet_id, fqdn_fwd, fqdn_rev, "
    "hostname, state, user_context) VALUES (?, ?, NULL, ?, ?, 1, 0, 0, ?, 0, NULL) ON CONFLICT (address) DO "
    "UPDATE SET hwaddr = excluded.hwaddr, valid_lifetime = excluded.valid_lifetime, expire = excluded.expire, "
    "hostname = excluded.hostname";

struct conn {
    char buf[BUF_SIZE];
    size_t len;
};

static struct conn *conns[MAX_FDS];
static sqlite3 *db;
static sqlite3_stmt *upsert;
static int in_transaction, syncing;
/* a request owed an answer: its connection's fd and that fd's generation (a closed fd's number is
   taken again by the next connection, which must not get the old one's answer) */
struct owed {
    int fd;
    unsigned generation;
};
static unsigned generations[MAX_FDS];
static struct owed waiting[MAX_FDS], syncing_fds[MAX_FDS];
static int n_waiting, n_syncing; /* upserted and waiting for a commit; committed, in the fsync */
static int wal_fd, start_fd, done_fd;

static void fail(const char *what, const char *why) {
    fprintf(stderr, "floor_c: %s: %s\n", what, why);
    exit(1);
}

static void die(const char *what) { fail(what, strerror(errno)); }          /* a system call failed */
static void die_sql(const char *what) { fail(what, sqlite3_errmsg(db)); } /* SQLite failed */

static void exec_sql(const char *sql) {
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) die_sql(sql);
}

static void *sync_thread(void *unused) {
    (void)unused;
    uint64_t n;
    for (;;) {
        if (read(start_fd, &n, sizeof n) != sizeof n) continue;
        if (fdatasync(wal_fd) != 0) die("fdatasync"); /* never answer as durable what is not */
        n = 1;
        if (write(done_fd, &n, sizeof n) != sizeof n) die("write done");
    }
    return NULL;
}

static void start_sync(void) {
    exec_sql("COMMIT");
    in_transaction = 0;
    memcpy(syncing_fds, waiting, (size_t)n_waiting * sizeof *waiting);
    n_syncing = n_waiting;
    n_waiting = 0;
    syncing = 1;
    uint64_t one = 1;
    if (write(start_fd, &one, sizeof one) != sizeof one) die("write start");
}

static void answer(int fd) {
    if (write(fd, response, response_len) < 0) { /* a client gone meanwhile: its close comes next */ }
}

static void synced(void) {
    uint64_t n;
    if (read(done_fd, &n, sizeof n) != sizeof n) return;
    for (int i = 0; i < n_syncing; i++)
        if (generations[syncing_fds[i].fd] == syncing_fds[i].generation) answer(syncing_fds[i].fd);
    n_syncing = 0;
    syncing = 0;
    if (n_waiting) start_sync();
}

/* The string value of "key" in body, copied to out (at most size-1 bytes); 0 if absent. */
static int string_field(const char *body, size_t len, const char *key, char *out, size_t size) {
    const char *at = memmem(body, len, key, strlen(key));
    if (at == NULL) return 0;
    const char *end = body + len;
    at += strlen(key);
    while (at < end && (*at == ' ' || *at == ':')) at++;
    if (at >= end || *at != '"') return 0;
    at++;
    size_t n = 0;
    while (at < end && *at != '"' && n + 1 < size) out[n++] = *at++;
    out[n] = 0;
    return 1;
}

static void request(int fd, const char *body, size_t len) {
    if (memmem(body, len, "\"lease4-update\"", 15) == NULL) { /* the floor measures lease4-update only */
        answer(fd);
        return;
    }
    char ip[64], hw[128], hostname[256] = "";
    struct in_addr address;
    if (!string_field(body, len, "\"ip-address\"", ip, sizeof ip) || inet_pton(AF_INET, ip, &address) != 1
        || !string_field(body, len, "\"hw-address\"", hw, sizeof hw)) {
        answer(fd);
        return;
    }
    string_field(body, len, "\"hostname\"", hostname, sizeof hostname);
    unsigned char hwaddr[64];
    int hw_len = 0;
    for (const char *p = hw; *p && hw_len < (int)sizeof hwaddr;) {
        unsigned int byte;
        if (sscanf(p, "%2x", &byte) != 1) break;
        hwaddr[hw_len++] = (unsigned char)byte;
        p += 2;
        if (*p == ':') p++;
    }
    long valid = 4000;
    const char *lft = memmem(body, len, "\"valid-lft\"", 11);
    if (lft != NULL) valid = strtol(lft + 11 + strspn(lft + 11, " :"), NULL, 10);
    if (n_waiting == MAX_FDS) /* only pipelining could get here: one request per connection is in flight */
        fail("request", "more requests in flight than the floor holds");
    if (!in_transaction) {
        exec_sql("BEGIN IMMEDIATE");
        in_transaction = 1;
    }
    sqlite3_bind_int64(upsert, 1, ntohl(address.s_addr));
    sqlite3_bind_blob(upsert, 2, hwaddr, hw_len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(upsert, 3, valid);
    sqlite3_bind_int64(upsert, 4, (sqlite3_int64)time(NULL) + valid);
    sqlite3_bind_text(upsert, 5, hostname, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(upsert) != SQLITE_DONE) die_sql("upsert");
    sqlite3_reset(upsert);
    waiting[n_waiting++] = (struct owed){fd, generations[fd]};
    if (!syncing) start_sync();
}

static void close_conn(int epoll_fd, int fd) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL);
    free(conns[fd]);
    conns[fd] = NULL;
    generations[fd]++; /* an answer still owed to it is dropped */
    close(fd);
}

static void readable(int epoll_fd, int fd) {
    struct conn *c = conns[fd];
    ssize_t got = read(fd, c->buf + c->len, BUF_SIZE - c->len);
    if (got <= 0) {
        if (got < 0 && errno == EAGAIN) return;
        close_conn(epoll_fd, fd);
        return;
    }
    c->len += (size_t)got;
    for (;;) { /* every whole request in the buffer */
        char *head_end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (head_end == NULL) break;
        size_t head_len = (size_t)(head_end - c->buf) + 4, body_len = 0;
        char *length = memmem(c->buf, head_len, "Content-Length:", 15);
        if (length == NULL) length = memmem(c->buf, head_len, "content-length:", 15);
        if (length != NULL) body_len = strtoul(length + 15, NULL, 10);
        if (c->len < head_len + body_len) break;
        request(fd, c->buf + head_len, body_len);
        memmove(c->buf, c->buf + head_len + body_len, c->len - head_len - body_len);
        c->len -= head_len + body_len;
    }
    if (c->len == BUF_SIZE) close_conn(epoll_fd, fd);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: floor_c PORT DATABASE\n");
        return 2;
    }
    response_len = (size_t)snprintf(response, sizeof response,
                                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                                    strlen(ANSWER), ANSWER);
    if (sqlite3_open(argv[2], &db) != SQLITE_OK) die_sql("open");
    exec_sql("PRAGMA journal_mode=WAL");
    exec_sql("PRAGMA synchronous=NORMAL");
    if (sqlite3_prepare_v2(db, UPSERT, -1, &upsert, NULL) != SQLITE_OK) die_sql("prepare");
    char wal[4096];
    snprintf(wal, sizeof wal, "%s-wal", argv[2]);
    if ((wal_fd = open(wal, O_WRONLY | O_CREAT, 0600)) < 0) die("open wal");
    if ((start_fd = eventfd(0, 0)) < 0 || (done_fd = eventfd(0, EFD_NONBLOCK)) < 0) die("eventfd");
    pthread_t thread;
    if (pthread_create(&thread, NULL, sync_thread, NULL) != 0) die("thread");

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), on = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 2048) < 0) die("listen");

    int epoll_fd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.fd = listener;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &ev);
    ev.data.fd = done_fd;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, done_fd, &ev);
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(epoll_fd, events, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int client;
                while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (client >= MAX_FDS) {
                        close(client);
                        continue;
                    }
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
                    conns[client] = calloc(1, sizeof(struct conn));
                    ev.data.fd = client;
                    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, client, &ev);
                }
            } else if (fd == done_fd) {
                synced();
            } else if (conns[fd] != NULL) {
                readable(epoll_fd, fd);
            }
        }
    }
}
