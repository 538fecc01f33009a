/* Integration-test harness: the real server process, its CLI and synthetic peer processes. See ovl_harness.h. */
#include "ovl_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#ifndef OVL_PEER_BIN /* a build that links the harness without the peer (tests/bench): starting one fails */
#define OVL_PEER_BIN "/nonexistent/overleg-peer"
#endif

extern char **environ;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ovl_it_now_ms(void)
{
    return now_ms();
}

int ovl_srv_init(ovl_srv_t *s, const char *const *env)
{
    memset(s, 0, sizeof(*s));
    s->pid = -1;
    s->env = env;
    snprintf(s->dir, sizeof(s->dir), "/tmp/ovl-it-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->data_dir, sizeof(s->data_dir), "%s/data", s->dir);
    snprintf(s->log_path, sizeof(s->log_path), "%s/server.log", s->dir);
    return 0;
}

/* In the child: the environment every server and CLI call of this test sees. */
static void child_env(const ovl_srv_t *s)
{
    unsetenv("LSAN_OPTIONS"); /* the test client's suppressions never cover the server */
    setenv("OVERLEG_LISTEN", "127.0.0.1:0", 1);
    setenv("OVERLEG_DATA_DIR", s->data_dir, 1);
    setenv("OVERLEG_API_KEY", OVL_IT_API_KEY, 1);
    setenv("OVERLEG_PUBLIC_HOST", "127.0.0.1", 1);
    /* Media: ports the kernel picks (tests run side by side) and one worker thread. */
    setenv("OVERLEG_MEDIA_PORT_BASE", "0", 1);
    setenv("OVERLEG_MEDIA_WORKERS", "1", 1);
    for (size_t i = 0; s->env && s->env[i]; i++)
        putenv((char *)s->env[i]);
}

int ovl_srv_start(ovl_srv_t *s)
{
    int pipefd[2];
    size_t n = 0;
    if (pipe(pipefd) != 0)
        return -1;
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        int logfd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(pipefd[1], 1);
        if (logfd >= 0)
            dup2(logfd, 2);
        close(pipefd[0]);
        child_env(s);
        execl(OVL_OVERLEG_BIN, "overleg", "serve", (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    s->stdout_text[0] = '\0';
    s->port = 0;
    int64_t deadline = now_ms() + 60000;
    while (!s->port && now_ms() < deadline) {
        struct pollfd p = {pipefd[0], POLLIN, 0};
        if (poll(&p, 1, 200) <= 0)
            continue;
        ssize_t r = read(pipefd[0], s->stdout_text + n, sizeof(s->stdout_text) - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        s->stdout_text[n] = '\0';
        const char *at = strstr(s->stdout_text, "listening on port ");
        if (at && strchr(at, '\n'))
            s->port = (uint16_t)atoi(at + strlen("listening on port "));
    }
    close(pipefd[0]); /* the server writes little more; SIGPIPE is ignored there */
    if (!s->port) {
        fprintf(stderr, "harness: server did not start; stdout: %s\n", s->stdout_text);
        return -1;
    }
    return 0;
}

int ovl_srv_finish(ovl_srv_t *s)
{
    int st = 0;
    int rc = ovl_srv_stop(s, 30000, &st);
    ovl_srv_cleanup(s);
    return rc == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int ovl_srv_stop(ovl_srv_t *s, int timeout_ms, int *status)
{
    int st = 0;
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    int64_t deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
        pid_t r = waitpid(s->pid, &st, WNOHANG);
        if (r == s->pid) {
            s->pid = -1;
            if (status)
                *status = st;
            return 0;
        }
        usleep(20000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &st, 0);
    s->pid = -1;
    return -1;
}

void ovl_srv_cleanup(ovl_srv_t *s)
{
    char cmd[300];
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = -1;
    }
    if (getenv("OVL_IT_KEEP")) {
        fprintf(stderr, "harness: kept %s\n", s->dir);
        return;
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "harness: could not remove %s\n", s->dir);
}

int ovl_cli(const ovl_srv_t *s, char *out, size_t cap, ...)
{
    const char *argv[32] = {"overleg"};
    int argc = 1, pipefd[2], st = 0;
    size_t n = 0;
    va_list ap;
    va_start(ap, cap);
    while (argc < 31 && (argv[argc] = va_arg(ap, const char *)))
        argc++;
    va_end(ap);
    argv[argc] = NULL;
    if (pipe(pipefd) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        child_env(s);
        execv(OVL_OVERLEG_BIN, (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    for (;;) {
        ssize_t r = read(pipefd[0], out + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == cap - 1)
            break;
    }
    out[n] = '\0';
    close(pipefd[0]);
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

int ovl_link_split(const char *link, char *meeting, size_t mcap, char *token, size_t tcap)
{
    const char *m = strstr(link, "/m/"), *t = strstr(link, "#t=");
    if (!m || !t || t < m)
        return -1;
    snprintf(meeting, mcap, "%.*s", (int)(t - m - 3), m + 3);
    snprintf(token, tcap, "%s", t + 3);
    return 0;
}

int ovl_make_meeting(const ovl_srv_t *s, char *meeting, char *host_token, char *guest_token, ...)
{
    const char *extra[8] = {0};
    char out[4096], m2[64];
    json_error_t e;
    va_list ap;
    int n = 0, rc;
    va_start(ap, guest_token);
    while (n < 7 && (extra[n] = va_arg(ap, const char *)))
        n++;
    va_end(ap);
    rc = ovl_cli(s, out, sizeof(out), "meeting", "create", "--title", "Integration", "--json", extra[0], extra[1],
                 extra[2], extra[3], extra[4], extra[5], extra[6], (const char *)NULL);
    if (rc != 0)
        return -1;
    json_t *j = json_loads(out, 0, &e);
    const char *host = json_string_value(json_object_get(j, "host_link"));
    const char *guest = json_string_value(json_object_get(j, "guest_link"));
    rc = host && guest && ovl_link_split(host, meeting, 64, host_token, 256) == 0 &&
                 ovl_link_split(guest, m2, sizeof(m2), guest_token, 256) == 0
             ? 0
             : -1;
    json_decref(j);
    return rc;
}

int ovl_it_connect(uint16_t port, int timeout_ms, ovl_wsclient_t **out)
{
    ovl_wsclient_config_t cfg = {
        .host = "127.0.0.1", .port = port, .path = "/ws", .insecure = true, .timeout_ms = timeout_ms};
    char err[200];
    int ret = ovl_wsclient_connect(&cfg, out, err, sizeof(err));
    if (ret != 0)
        fprintf(stderr, "harness: connect: %s\n", err);
    return ret;
}

int ovl_tcp_connect(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int ovl_tcp_wait_closed(int fd, int timeout_ms)
{
    char buf[512];
    int64_t deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
            return 1;
    }
    return 0;
}

/* ---- synthetic peers ---- */

int ovl_it_peer_start(ovl_it_peer_t *p, const char *dir, const char *tag, const char *const *argv)
{
    static int n;
    memset(p, 0, sizeof(*p));
    p->code = -1;
    snprintf(p->out, sizeof(p->out), "%s/%s%d.json", dir, tag, n);
    snprintf(p->err, sizeof(p->err), "%s/%s%d.err", dir, tag, n++);
    fflush(NULL);
    p->pid = fork();
    if (p->pid < 0)
        return -1;
    if (p->pid == 0) {
        int o = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open(p->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 1);
        dup2(e, 2);
        execv(OVL_PEER_BIN, (char *const *)argv);
        _exit(127);
    }
    return 0;
}

int ovl_it_peer_wait(ovl_it_peer_t *p, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    int st;
    while (p->pid > 0) {
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            p->pid = 0;
            p->code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            break;
        }
        if (now_ms() > deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            p->pid = 0;
            fprintf(stderr, "peer %s did not finish in time\n", p->out);
            break;
        }
        usleep(50000);
    }
    json_error_t e;
    json_decref(p->json);
    p->json = json_load_file(p->out, 0, &e);
    return p->code;
}

void ovl_it_peer_show(const ovl_it_peer_t *p)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "cat '%s' '%s' >&2", p->err, p->out);
    if (system(cmd) != 0)
        fprintf(stderr, "(no output)\n");
}

void ovl_it_peer_done(ovl_it_peer_t *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
    json_decref(p->json);
    p->json = NULL;
}
