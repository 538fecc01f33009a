/* Embedded web files: identical to signaling/web/ byte for byte, typed right, and CSP-clean (no inline code). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_copies_match_the_files),
        cmocka_unit_test(test_lookup_and_types),
        cmocka_unit_test(test_page_satisfies_the_csp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
