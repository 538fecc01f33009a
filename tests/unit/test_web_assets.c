/* Embedded web files: identical to signaling/web/ byte for byte, typed right, and CSP-clean (no inline code). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "signaling/web_assets.h"

static void root_path(char *out, size_t cap, const char *rel)
{
    char base[512];
    snprintf(base, sizeof(base), "%s", OVL_TEST_DATA);
    for (int up = 0; up < 2; up++)
        *strrchr(base, '/') = '\0';
    snprintf(out, cap, "%s/%s", base, rel);
}

static void test_embedded_copies_match_the_files(void **state)
{
    (void)state;
    assert_true(ovl_web_asset_count >= 3);
    for (size_t i = 0; i < ovl_web_asset_count; i++) {
        const ovl_web_asset_t *a = &ovl_web_assets[i];
        char path[600];
        root_path(path, sizeof(path), "signaling/web");
        strncat(path, a->path, sizeof(path) - strlen(path) - 1);
        FILE *f = fopen(path, "rb");
        if (!f)
            fail_msg("%s is embedded but not in signaling/web", a->path);
        unsigned char *buf = malloc(a->len + 2);
        size_t n = fread(buf, 1, a->len + 1, f);
        fclose(f);
        if (n != a->len || memcmp(buf, a->data, n) != 0)
            fail_msg("%s differs from signaling/web: run signaling/web/embed.sh", a->path);
        free(buf);
    }
}

static void test_lookup_and_types(void **state)
{
    (void)state;
    assert_string_equal(ovl_web_asset_find("/index.html")->content_type, "text/html; charset=utf-8");
    assert_string_equal(ovl_web_asset_find("/static/app.js")->content_type, "text/javascript; charset=utf-8");
    assert_string_equal(ovl_web_asset_find("/static/style.css")->content_type, "text/css; charset=utf-8");
    assert_null(ovl_web_asset_find("/static/../index.html"));
    assert_null(ovl_web_asset_find("/static/missing.js"));
    assert_null(ovl_web_asset_find(NULL));
}

/* The CSP (default-src 'self') forbids inline scripts, inline styles and handlers: the page uses none. */
static void test_page_satisfies_the_csp(void **state)
{
    (void)state;
    const ovl_web_asset_t *a = ovl_web_asset_find("/index.html");
    char *html = calloc(1, a->len + 1);
    memcpy(html, a->data, a->len);
    assert_null(strstr(html, "<script>"));
    assert_null(strstr(html, "<style"));
    assert_null(strstr(html, "style="));
    assert_null(strstr(html, "onclick"));
    assert_null(strstr(html, "onload"));
    assert_null(strstr(html, "http://"));
    assert_non_null(strstr(html, "<script src=\"/static/app.js\""));
    free(html);
}

/* Each gzipped copy is a gzip stream (RFC 1952) that gunzips to exactly the file, and is smaller. */
static void test_gzipped_copies_decompress_to_the_files(void **state)
{
    (void)state;
    size_t zipped = 0;
    for (size_t i = 0; i < ovl_web_asset_count; i++) {
        const ovl_web_asset_t *a = &ovl_web_assets[i];
        if (!a->gz)
            continue;
        zipped++;
        assert_true(a->gz_len < a->len);
        assert_true(a->gz_len > 10 && a->gz[0] == 0x1f && a->gz[1] == 0x8b && a->gz[2] == 8); /* deflate */
        char tmp[] = "/tmp/ovl-gz-XXXXXX", cmd[64];
        int fd = mkstemp(tmp);
        assert_true(fd >= 0);
        FILE *f = fdopen(fd, "wb");
        assert_int_equal(fwrite(a->gz, 1, a->gz_len, f), a->gz_len);
        fclose(f);
        snprintf(cmd, sizeof(cmd), "gzip -dc < %s", tmp);
        FILE *p = popen(cmd, "r");
        unsigned char *out = malloc(a->len + 2);
        size_t n = fread(out, 1, a->len + 1, p);
        assert_int_equal(pclose(p), 0);
        unlink(tmp);
        if (n != a->len || memcmp(out, a->data, n) != 0)
            fail_msg("%s: the gzipped copy does not gunzip to the file", a->path);
        free(out);
    }
    assert_true(zipped >= 3); /* the page and its scripts compress */
    assert_non_null(ovl_web_asset_find("/static/app.js")->gz);
}

/* ETags are quoted 16-hex-digit strong validators, and differ between different files. */
static void test_etags(void **state)
{
    (void)state;
    for (size_t i = 0; i < ovl_web_asset_count; i++) {
        const char *e = ovl_web_assets[i].etag;
        assert_int_equal(strlen(e), 18);
        assert_true(e[0] == '"' && e[17] == '"');
        assert_int_equal(strspn(e + 1, "0123456789abcdef"), 16);
        for (size_t j = 0; j < i; j++)
            if (ovl_web_assets[j].len != ovl_web_assets[i].len ||
                memcmp(ovl_web_assets[j].data, ovl_web_assets[i].data, ovl_web_assets[i].len) != 0)
                assert_string_not_equal(ovl_web_assets[j].etag, e);
    }
}

/* index.html preloads every module the client has, so none waits for its importer (thin links). */
static void test_page_preloads_every_module(void **state)
{
    (void)state;
    const ovl_web_asset_t *page = ovl_web_asset_find("/index.html");
    char *html = calloc(1, page->len + 1), want[300];
    memcpy(html, page->data, page->len);
    for (size_t i = 0; i < ovl_web_asset_count; i++) {
        const char *path = ovl_web_assets[i].path;
        size_t n = strlen(path);
        if (n < 3 || strcmp(path + n - 3, ".js") != 0 || strcmp(path, "/static/app.js") == 0)
            continue;
        snprintf(want, sizeof(want), "<link rel=\"modulepreload\" href=\"%s\">", path);
        if (!strstr(html, want))
            fail_msg("index.html lacks %s", want);
    }
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_copies_match_the_files),
        cmocka_unit_test(test_lookup_and_types),
        cmocka_unit_test(test_page_satisfies_the_csp),
        cmocka_unit_test(test_gzipped_copies_decompress_to_the_files),
        cmocka_unit_test(test_etags),
        cmocka_unit_test(test_page_preloads_every_module),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
