/*
 * Integration-test harness: runs the real `overleg` binary (OVL_OVERLEG_BIN) on 127.0.0.1 with a
 * free port chosen by the kernel (listen port 0, read back from its first stdout line) and a
 * fresh data directory; runs CLI commands against the same data directory; stops it with SIGTERM.
 */
#ifndef OVL_HARNESS_H
#define OVL_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "signaling/wsclient.h"

#define OVL_IT_API_KEY "integration-test-api-key-0123456789"

typedef struct ovl_srv {
    pid_t pid;
    uint16_t port;
    char dir[128];      /* temporary directory, removed by ovl_srv_cleanup */
    char data_dir[192]; /* dir/data */
    char log_path[192]; /* dir/server.log: the server's stderr */
    char stdout_text[4096];
    const char *const *env; /* extra "KEY=VALUE" for the server and CLI, NULL-terminated; borrowed */
} ovl_srv_t;

/** Makes the temporary directory; `env` (may be NULL) is kept for every start and CLI call. 0 or -1. */
int ovl_srv_init(ovl_srv_t *s, const char *const *env);

/** Starts `overleg serve` and waits (up to 60 s) for its "listening on port N" line. 0 or -1. */
int ovl_srv_start(ovl_srv_t *s);

/**
 * Sends SIGTERM and waits up to `timeout_ms` for the exit. Returns 0 when it exited, with
 * *status the wait status; -1 on timeout (the process is then killed).
 */
int ovl_srv_stop(ovl_srv_t *s, int timeout_ms, int *status);

/** Kills a still-running server and removes the temporary directory. */
void ovl_srv_cleanup(ovl_srv_t *s);

/**
 * A suite's teardown: stops the server (SIGTERM, up to 30 s) and cleans up. 0 only when it
 * exited by itself with status 0 (a drain that hangs or a crash fails the suite), else -1.
 */
int ovl_srv_finish(ovl_srv_t *s);

/**
 * Runs `overleg ARGS... (NULL-terminated)` with the server's environment; its stdout goes to
 * `out` (NUL-terminated, capacity `cap`). Returns the exit code, or -1.
 */
int ovl_cli(const ovl_srv_t *s, char *out, size_t cap, ...);

/** Splits https://host:port/m/MEETING#t=TOKEN into meeting and token. 0 or -1. */
int ovl_link_split(const char *link, char *meeting, size_t mcap, char *token, size_t tcap);

/** Creates a meeting with the CLI (--json) and returns its links' parts. Extra args NULL-terminated. 0 or -1. */
int ovl_make_meeting(const ovl_srv_t *s, char *meeting, char *host_token, char *guest_token, ...);

/** Opens a WSS connection to 127.0.0.1:port/ws accepting the server's self-signed certificate. 0 or an OVL_ERR_*. */
int ovl_it_connect(uint16_t port, int timeout_ms, ovl_wsclient_t **out);

/** Connects a raw TCP socket to 127.0.0.1:port. The fd or -1. */
int ovl_tcp_connect(uint16_t port);

/** 1 when the peer closes `fd` within `timeout_ms` (reads and discards anything it sends). */
int ovl_tcp_wait_closed(int fd, int timeout_ms);

/* ---- the synthetic peer (OVL_PEER_BIN) as a child process ---- */

/* One build/overleg-peer run: stdout (its JSON summary with --json) and stderr go to files. */
typedef struct ovl_it_peer {
    pid_t pid; /* 0 once reaped */
    char out[256], err[256];
    int code;     /* exit code, -1 while running or killed */
    json_t *json; /* the summary, after ovl_it_peer_wait (NULL when it printed none); owned */
} ovl_it_peer_t;

/**
 * Starts OVL_PEER_BIN with `argv` (NULL-terminated, argv[0] included), its output in `dir`/`tag`N.json and .err
 * (N counts the calls). 0 or -1.
 */
int ovl_it_peer_start(ovl_it_peer_t *p, const char *dir, const char *tag, const char *const *argv);

/** Waits up to timeout_ms (then kills it); loads the summary. Returns the exit code, or -1. */
int ovl_it_peer_wait(ovl_it_peer_t *p, int timeout_ms);

/** Copies the peer's stderr and stdout to our stderr (on a failure). */
void ovl_it_peer_show(const ovl_it_peer_t *p);

/** Kills the peer if it still runs and frees the summary. */
void ovl_it_peer_done(ovl_it_peer_t *p);

/** CLOCK_MONOTONIC in milliseconds. */
int64_t ovl_it_now_ms(void);

#endif
