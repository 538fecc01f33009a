/* Data directory: 0700, a persistent 0600 secret, and a self-signed ECDSA P-256 certificate with the right SAN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "relay/proto/base.h"
#include "signaling/datadir.h"

static char tmp[64];

static int setup(void **state)
{
    (void)state;
    strcpy(tmp, "/tmp/ovl-dd-XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_dir_and_secret(void **state)
{
    (void)state;
    char dir[128], path[200], err[256];
    uint8_t a[OVL_SECRET_BYTES], b[OVL_SECRET_BYTES];
    struct stat st;
    snprintf(dir, sizeof(dir), "%s/data", tmp);
    mode_t old = umask(0);
    assert_int_equal(ovl_datadir_prepare(dir, err, sizeof(err)), 0);
    umask(old);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(ovl_datadir_secret(dir, a, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/secret.key", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, OVL_SECRET_BYTES);
    assert_int_equal(ovl_datadir_secret(dir, b, err, sizeof(err)), 0);
    assert_memory_equal(a, b, sizeof(a)); /* the same secret after a restart: links keep working */
    /* A damaged secret is an error, never silently replaced. */
    FILE *f = fopen(path, "ab");
    fputc('x', f);
    fclose(f);
    assert_int_equal(ovl_datadir_secret(dir, b, err, sizeof(err)), OVL_ERR_PARSE);
    assert_non_null(strstr(err, "secret.key"));
    snprintf(path, sizeof(path), "%s/missing/deeper", tmp);
    assert_int_equal(ovl_datadir_prepare(path, err, sizeof(err)), OVL_ERR_IO);
    assert_non_null(strstr(err, "data_dir"));
}

static void test_self_signed_certificate(void **state)
{
    (void)state;
    char cert[256], key[256], err[256];
    int created = 0;
    struct stat st;
    assert_int_equal(
        ovl_datadir_selfsigned(tmp, "meet.example.org", cert, key, sizeof(cert), &created, err, sizeof(err)), 0);
    assert_int_equal(created, 1);
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    FILE *f = fopen(cert, "r");
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    EVP_PKEY *pk = X509_get0_pubkey(x);
    assert_int_equal(EVP_PKEY_get_base_id(pk), EVP_PKEY_EC);
    char group[32] = "";
    size_t glen = 0;
    EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen);
    assert_string_equal(group, "prime256v1");
    assert_int_equal(X509_check_host(x, "meet.example.org", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
    assert_int_equal(X509_check_host(x, "other.example.org", 0, 0, NULL), 0);
    assert_int_equal(X509_verify(x, pk), 1); /* self-signed */
    X509_free(x);
    /* Kept on the next start. */
    assert_int_equal(
        ovl_datadir_selfsigned(tmp, "meet.example.org", cert, key, sizeof(cert), &created, err, sizeof(err)), 0);
    assert_int_equal(created, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dir_and_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_signed_certificate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
