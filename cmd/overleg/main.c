/*
 * overleg: the server and its command line.
 *
 *   overleg serve [--config FILE] [--log-format text|json]
 *   overleg meeting create --title T [--expires 7d] [--lobby] [--name HOSTNAME] [--json] [--config FILE]
 *   overleg meeting list [--json] [--config FILE]
 *   overleg meeting revoke ID [--config FILE]
 *   overleg --version | help
 *
 * The only place that may know both the signaling server and the media relay: the relay (the
 * media plane, relay/io/media.h) is created here and installed through the media port
 * (signaling/media_port.h) by media_glue.c.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd/overleg/media_glue.h"
#include "relay/io/media.h"
#include "relay/proto/base.h"
#include "signaling/config.h"
#include "signaling/datadir.h"
#include "signaling/log.h"
#include "signaling/meetings.h"
#include "signaling/server.h"
#include "signaling/store.h"

#define VERSION "0.1.0"

static ovl_server_t *running; /* for the signal handler only */

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        ovl_server_request_drain(running);
}

static void usage(FILE *f)
{
    fprintf(f, "usage:\n"
               "  overleg serve [--config FILE] [--log-format text|json]\n"
               "  overleg meeting create --title TITLE [--expires 7d] [--lobby] [--name HOST_NAME] [--json]\n"
               "  overleg meeting list [--json]\n"
               "  overleg meeting revoke MEETING_ID\n"
               "  overleg --version\n"
               "Every command takes --config FILE; OVERLEG_* environment variables override the file\n"
               "(see deploy/overleg.conf.example).\n");
}

typedef struct opts {
    const char *config, *log_format, *title, *expires, *name, *id;
    int lobby, json;
} opts_t;

/* Parses the flags after the command words; 0 or 2 (usage error, message printed). */
static int parse_opts(int argc, char **argv, int first, opts_t *o)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--config") == 0)
            dst = &o->config;
        else if (strcmp(a, "--log-format") == 0)
            dst = &o->log_format;
        else if (strcmp(a, "--title") == 0)
            dst = &o->title;
        else if (strcmp(a, "--expires") == 0)
            dst = &o->expires;
        else if (strcmp(a, "--name") == 0)
            dst = &o->name;
        else if (strcmp(a, "--lobby") == 0)
            o->lobby = 1;
        else if (strcmp(a, "--json") == 0)
            o->json = 1;
        /* Every option is long ("--x"); a meeting id is base64url and may itself start with '-'. */
        else if (strncmp(a, "--", 2) != 0 && !o->id)
            o->id = a;
        else {
            fprintf(stderr, "overleg: unknown argument %s\n", a);
            return 2;
        }
        if (dst) {
            if (i + 1 >= argc) {
                fprintf(stderr, "overleg: %s needs a value\n", a);
                return 2;
            }
            *dst = argv[++i];
        }
    }
    return 0;
}

static int load_config(const opts_t *o, ovl_config_t *cfg)
{
    char err[512] = "";
    ovl_config_defaults(cfg);
    if ((o->config && ovl_config_load_file(cfg, o->config, err, sizeof(err)) != 0) ||
        ovl_config_apply_env(cfg, getenv, err, sizeof(err)) != 0 ||
        (o->log_format && ovl_config_set(cfg, "log_format", o->log_format, err, sizeof(err)) != 0) ||
        ovl_config_validate(cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "overleg: config: %s\n", err);
        return 2;
    }
    return 0;
}

/* Opens the data dir, the secret and the store. 0 or 1 (message printed). */
static int open_data(const ovl_config_t *cfg, uint8_t secret[OVL_SECRET_BYTES], ovl_store_t **store)
{
    char err[512] = "", path[600];
    if (ovl_datadir_prepare(cfg->data_dir, err, sizeof(err)) != 0 ||
        ovl_datadir_secret(cfg->data_dir, secret, err, sizeof(err)) != 0) {
        fprintf(stderr, "overleg: %s\n", err);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/meetings.db", cfg->data_dir);
    if (ovl_store_open(path, store) != 0) {
        fprintf(stderr, "overleg: data_dir: cannot open %s\n", path);
        return 1;
    }
    return 0;
}

/* The port links carry: public_port, else the first listen address's port. */
static uint16_t link_port(const ovl_config_t *cfg, uint16_t bound)
{
    if (cfg->public_port)
        return (uint16_t)cfg->public_port;
    if (bound)
        return bound;
    size_t first = strcspn(cfg->listen, ",");
    const char *colon = NULL;
    for (const char *c = cfg->listen; c < cfg->listen + first; c++)
        if (*c == ':')
            colon = c;
    return colon ? (uint16_t)atoi(colon + 1) : 443;
}

static void format_time(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, cap, "%Y-%m-%d %H:%M UTC", &tm);
}

static int print_meeting(const ovl_config_t *cfg, const uint8_t *secret, const ovl_meeting_t *m, const char *name,
                         uint16_t port, int json)
{
    char host[OVL_LINK_MAX], guest[OVL_LINK_MAX], when[40];
    if (ovl_meetings_link(secret, cfg->public_host, port, m, OVL_ROLE_HOST, name, host, sizeof(host)) != 0 ||
        ovl_meetings_link(secret, cfg->public_host, port, m, OVL_ROLE_GUEST, NULL, guest, sizeof(guest)) != 0) {
        fprintf(stderr, "overleg: cannot make links (is --name longer than 64 bytes?)\n");
        return 1;
    }
    if (json) {
        json_t *j = ovl_meetings_json(m, host, guest);
        char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(j);
        return text ? 0 : 1;
    }
    format_time(m->expires, when, sizeof(when));
    printf("Meeting \"%s\" (%s), lobby %s, valid until %s\n", m->title, m->id, m->lobby ? "on" : "off", when);
    printf("  Host link:  %s\n", host);
    printf("  Guest link: %s\n", guest);
    return 0;
}

static int cmd_meeting(const char *sub, const opts_t *o)
{
    ovl_config_t cfg;
    ovl_store_t *store = NULL;
    uint8_t secret[OVL_SECRET_BYTES];
    int ret;

    if ((ret = load_config(o, &cfg)) != 0 || (ret = open_data(&cfg, secret, &store)) != 0)
        return ret;
    if (strcmp(sub, "create") == 0) {
        int64_t lifetime = cfg.link_expiry;
        ovl_meeting_t m;
        if (!o->title || (o->expires && ovl_config_parse_duration(o->expires, &lifetime) != 0)) {
            fprintf(stderr, "overleg: meeting create needs --title TITLE; --expires is like 90m, 12h or 7d\n");
            ret = 2;
        } else if ((ret = ovl_meetings_create(store, o->title, lifetime, o->lobby, time(NULL), &m)) != 0) {
            fprintf(stderr, "overleg: cannot create the meeting: %s\n",
                    ret == OVL_ERR_ARG ? "the title must be 1-128 characters and expires positive" : "store error");
            ret = ret == OVL_ERR_ARG ? 2 : 1;
        } else {
            ret = print_meeting(&cfg, secret, &m, o->name, link_port(&cfg, 0), o->json);
        }
    } else if (strcmp(sub, "list") == 0) {
        ovl_meeting_t *all = NULL;
        size_t n = 0;
        char when[40];
        ret = ovl_store_list(store, &all, &n) != 0;
        if (!ret && o->json) {
            json_t *arr = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, ovl_meetings_json(&all[i], NULL, NULL));
            char *text = json_dumps(arr, JSON_INDENT(2));
            printf("%s\n", text ? text : "[]");
            free(text);
            json_decref(arr);
        } else if (!ret) {
            for (size_t i = 0; i < n; i++) {
                format_time(all[i].expires, when, sizeof(when));
                printf("%s  %-8s  until %s  lobby %-3s  %s\n", all[i].id, all[i].revoked ? "revoked" : "active", when,
                       all[i].lobby ? "on" : "off", all[i].title);
            }
        }
        free(all);
    } else if (strcmp(sub, "revoke") == 0) {
        if (!o->id) {
            fprintf(stderr, "overleg: meeting revoke needs a meeting id\n");
            ret = 2;
        } else if ((ret = ovl_store_revoke(store, o->id, time(NULL))) != 0) {
            fprintf(stderr, "overleg: %s: %s\n", o->id, ret == OVL_ERR_NOTFOUND ? "no such meeting" : "store error");
            ret = 1;
        } else {
            printf("Revoked %s: its links stop working; a running server ends the call within a second.\n", o->id);
        }
    } else {
        usage(stderr);
        ret = 2;
    }
    ovl_store_free(store);
    return ret;
}

/* The media plane from the configuration; 0 or 1 (message printed). */
static int make_media(const ovl_config_t *cfg, ovl_media_t **media)
{
    char err[512] = "";
    ovl_media_config_t mc = {
        .workers = cfg->media_workers,
        .port_base = (uint16_t)cfg->media_port_base,
        .bind = cfg->media_bind,
        .public_ips = cfg->public_ip,
        .consent_timeout = OVL_SEC(cfg->media_consent_timeout),
        .max_participants = cfg->max_participants,
    };
    if (ovl_media_new(&mc, media, err, sizeof(err)) != 0) {
        fprintf(stderr, "overleg: %s\n", err);
        return 1;
    }
    return 0;
}

/* Starts the workers with SIGTERM and SIGINT blocked, so that only the main thread handles them. */
static int start_media(ovl_media_t *media)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int ret = ovl_media_start(media);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ret;
}

static int cmd_serve(const opts_t *o)
{
    ovl_config_t cfg;
    ovl_log_t log;
    ovl_store_t *store = NULL;
    ovl_server_t *server = NULL;
    ovl_media_t *media = NULL;
    ovl_glue_t *glue = NULL;
    ovl_media_port_t port;
    uint8_t secret[OVL_SECRET_BYTES];
    char err[512] = "";
    int ret;

    if ((ret = load_config(o, &cfg)) != 0 || (ret = open_data(&cfg, secret, &store)) != 0)
        return ret;
    ovl_log_init(&log, cfg.log_format, stderr);
    ret = 1;
    if (make_media(&cfg, &media) != 0 || ovl_glue_new(media, &port, &glue) != 0)
        goto Exit;
    if (ovl_server_new(&cfg, &log, store, secret, &port, &server, err, sizeof(err)) != 0) {
        fprintf(stderr, "overleg: %s\n", err);
        goto Exit;
    }
    /* ICE-TCP candidates carry the port HTTPS is reached on: signaling sorts the connections. */
    ovl_media_set_tcp_port(media, link_port(&cfg, ovl_server_port(server)));
    if (ovl_glue_attach(glue, server) != 0 || start_media(media) != 0) {
        fprintf(stderr, "overleg: %s\n", err[0] ? err : "media: cannot start the media workers");
        goto Exit;
    }
    uint16_t listen_port = ovl_server_port(server);
    printf("overleg %s: listening on port %u (%s)\n", VERSION, listen_port, cfg.listen);
    {
        size_t n_addrs;
        const char *const *addrs = ovl_media_public_addrs(media, &n_addrs);
        char ports[512] = "", list[512] = "";
        for (size_t i = 0; i < ovl_media_worker_count(media); i++)
            snprintf(ports + strlen(ports), sizeof(ports) - strlen(ports), "%s%u", i ? "," : "",
                     ovl_media_worker_port(media, i));
        for (size_t i = 0; i < n_addrs; i++)
            snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? "," : "", addrs[i]);
        printf("overleg %s: media on UDP ports %s (one per worker), announced as %s\n", VERSION, ports, list);
        uint16_t wports[16];
        size_t nw = 0;
        for (size_t i = 0; i < ovl_media_worker_count(media) && nw < 16; i++)
            wports[nw++] = ovl_media_worker_port(media, i);
        /* TURN over TLS on the HTTPS port; its allocations reach only these media addresses. */
        if (ovl_server_enable_turn(server, addrs, n_addrs, wports, nw) != 0 || ovl_glue_attach_turn(glue) != 0)
            fprintf(stderr, "overleg: TURN over TLS not available (no usable media address)\n");
    }
    if (cfg.demo_meeting) {
        ovl_meeting_t m;
        int64_t now = time(NULL);
        if (ovl_store_find_live(store, "Demo", now + 86400, &m) == 0 ||
            ovl_meetings_create(store, "Demo", cfg.link_expiry, 0, now, &m) == 0)
            print_meeting(&cfg, secret, &m, NULL, link_port(&cfg, listen_port), 0);
    }
    fflush(stdout);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    running = server;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    ret = ovl_server_run(server) == 0 ? 0 : 1;
    running = NULL;
Exit:
    /* Signaling first (its last leaves go to the queues), then the workers stop and free their rooms. */
    ovl_server_free(server);
    ovl_media_free(media);
    ovl_glue_free(glue);
    ovl_store_free(store);
    ovl_log_event(&log, OVL_LOG_INFO, "exit", "code", ret == 0 ? "0" : "1", NULL);
    return ret;
}

int main(int argc, char **argv)
{
    opts_t o = {0};
    umask(077); /* the data directory holds secrets: nothing in it is for others */
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("overleg %s\n", VERSION);
        return 0;
    }
    if (strcmp(argv[1], "serve") == 0)
        return parse_opts(argc, argv, 2, &o) ? 2 : cmd_serve(&o);
    if (strcmp(argv[1], "meeting") == 0 && argc >= 3)
        return parse_opts(argc, argv, 3, &o) ? 2 : cmd_meeting(argv[2], &o);
    usage(stderr);
    return 2;
}
