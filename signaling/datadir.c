/* Data directory, server secret and self-signed certificate. See datadir.h. */
#include "signaling/datadir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "relay/proto/base.h"

int ovl_datadir_prepare(const char *dir, char *err, size_t cap)
{
    struct stat st;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, cap, "data_dir: cannot create %s: %s", dir, strerror(errno));
        return OVL_ERR_IO;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, cap, "data_dir: %s is not a directory", dir);
        return OVL_ERR_IO;
    }
    return 0;
}

/* Writes `len` bytes to a new file `path` with mode 0600 (fails if it exists). */
static int write_new(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return OVL_ERR_IO;
    ssize_t n = write(fd, data, len);
    int ok = n == (ssize_t)len && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        unlink(path);
        return OVL_ERR_IO;
    }
    return 0;
}

int ovl_datadir_secret(const char *dir, uint8_t secret[OVL_SECRET_BYTES], char *err, size_t cap)
{
    char path[512];
    uint8_t buf[OVL_SECRET_BYTES + 1];
    int fd;

    snprintf(path, sizeof(path), "%s/secret.key", dir);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
        ssize_t n = read(fd, buf, sizeof(buf));
        close(fd);
        if (n != OVL_SECRET_BYTES) {
            snprintf(err, cap, "data_dir: %s must hold exactly %d bytes", path, OVL_SECRET_BYTES);
            return OVL_ERR_PARSE;
        }
        memcpy(secret, buf, OVL_SECRET_BYTES);
        OPENSSL_cleanse(buf, sizeof(buf));
        return 0;
    }
    if (errno != ENOENT) {
        snprintf(err, cap, "data_dir: cannot read %s: %s", path, strerror(errno));
        return OVL_ERR_IO;
    }
    if (RAND_bytes(secret, OVL_SECRET_BYTES) != 1) {
        snprintf(err, cap, "data_dir: no randomness for the server secret");
        return OVL_ERR_CRYPTO;
    }
    if (write_new(path, secret, OVL_SECRET_BYTES) != 0) {
        /* Another process (a CLI call at the same moment) may have just made it: read that one. */
        if (errno == EEXIST)
            return ovl_datadir_secret(dir, secret, err, cap);
        snprintf(err, cap, "data_dir: cannot write %s: %s", path, strerror(errno));
        return OVL_ERR_IO;
    }
    return 0;
}

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

static int make_cert(const char *host, const char *cert_path, const char *key_path)
{
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FILE *f = NULL;
    char san[400];
    uint8_t serial[16], addr[16];
    BIGNUM *bn = NULL;
    int ret = OVL_ERR_CRYPTO, fd = -1;

    if (!pkey || !x || RAND_bytes(serial, sizeof(serial)) != 1)
        goto Exit;
    serial[0] &= 0x7f;
    if (!(bn = BN_bin2bn(serial, sizeof(serial), NULL)) || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
        goto Exit;
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 825L * 86400);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Overleg (self-signed)", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0);
    X509_set_issuer_name(x, name);
    int is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    snprintf(san, sizeof(san), "%s:%s, IP:127.0.0.1, IP:::1", is_ip ? "IP" : "DNS", host);
    if (!add_ext(x, NID_subject_alt_name, san) || !add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(x, NID_key_usage, "critical,digitalSignature") || !add_ext(x, NID_ext_key_usage, "serverAuth"))
        goto Exit;
    if (X509_sign(x, pkey, EVP_sha256()) == 0)
        goto Exit;
    ret = OVL_ERR_IO;
    if ((fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 || !(f = fdopen(fd, "w")))
        goto Exit;
    fd = -1;
    if (PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) != 1 || fclose(f) != 0) {
        f = NULL;
        goto Exit;
    }
    if (!(f = fopen(cert_path, "w")) || PEM_write_X509(f, x) != 1 || fclose(f) != 0) {
        f = NULL;
        goto Exit;
    }
    f = NULL;
    ret = 0;
Exit:
    if (f)
        fclose(f);
    if (fd >= 0)
        close(fd);
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return ret;
}

int ovl_datadir_selfsigned(const char *dir, const char *host, char *cert, char *key, size_t pcap, int *created,
                           char *err, size_t cap)
{
    *created = 0;
    snprintf(cert, pcap, "%s/tls-cert.pem", dir);
    snprintf(key, pcap, "%s/tls-key.pem", dir);
    if (access(cert, R_OK) == 0 && access(key, R_OK) == 0)
        return 0;
    int ret = make_cert(host, cert, key);
    if (ret != 0) {
        snprintf(err, cap, "tls_cert: cannot make a self-signed certificate in %s (%s)", dir, ovl_strerror(ret));
        return ret;
    }
    *created = 1;
    return 0;
}
