#ifndef QLINK_COPENSSL_SHIM_H
#define QLINK_COPENSSL_SHIM_H

#include <openssl/opensslv.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/ec.h>
#include <stdint.h>

/* OpenSSL 3 exposes these as macros; Swift cannot import macros with arguments. */

static inline void qlink_openssl_free(void *ptr) { OPENSSL_free(ptr); }

static inline int qlink_evp_pkey_id(const EVP_PKEY *key) { return EVP_PKEY_id(key); }

static inline long qlink_bio_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }

static inline int qlink_err_get_lib(unsigned long code) { return ERR_GET_LIB(code); }
static inline int qlink_err_get_reason(unsigned long code) { return ERR_GET_REASON(code); }

static inline STACK_OF(X509) *qlink_sk_x509_new_null(void) { return sk_X509_new_null(); }
static inline int qlink_sk_x509_push(STACK_OF(X509) *stack, X509 *cert) { return sk_X509_push(stack, cert); }
static inline int qlink_sk_x509_num(const STACK_OF(X509) *stack) { return sk_X509_num(stack); }
static inline X509 *qlink_sk_x509_value(const STACK_OF(X509) *stack, int index) { return sk_X509_value(stack, index); }
static inline void qlink_sk_x509_free(STACK_OF(X509) *stack) { sk_X509_free(stack); }
static inline void qlink_sk_x509_pop_free(STACK_OF(X509) *stack) { sk_X509_pop_free(stack, X509_free); }

static inline int qlink_sk_x509_revoked_num(const STACK_OF(X509_REVOKED) *stack) { return sk_X509_REVOKED_num(stack); }
static inline X509_REVOKED *qlink_sk_x509_revoked_value(const STACK_OF(X509_REVOKED) *stack, int index) {
    return sk_X509_REVOKED_value(stack, index);
}

static inline long qlink_openssl_version_number(void) { return (long)OPENSSL_VERSION_NUMBER; }

/* Key generation: EVP_PKEY_Q_keygen and EVP_EC_gen are variadic macros. */
static inline EVP_PKEY *qlink_keygen_named(const char *type) { return EVP_PKEY_Q_keygen(NULL, NULL, type); }
static inline EVP_PKEY *qlink_keygen_ec_p256(void) { return EVP_EC_gen("P-256"); }

static inline int qlink_evp_pkey_x25519(void) { return EVP_PKEY_X25519; }
static inline int qlink_evp_pkey_ed25519(void) { return EVP_PKEY_ED25519; }
static inline int qlink_evp_pkey_ec(void) { return EVP_PKEY_EC; }

/* X509V3_set_ctx_nodb is a macro; these build one extension from its text form
 * (as in openssl.cnf) with the issuer and subject in context, and add it. */
static inline int qlink_x509_add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL) return 0;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static inline int qlink_x509_crl_add_ext(X509_CRL *crl, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL) return 0;
    int ok = X509_CRL_add_ext(crl, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static inline int qlink_x509_crl_add_number(X509_CRL *crl, long number) {
    ASN1_INTEGER *value = ASN1_INTEGER_new();
    if (value == NULL) return 0;
    int ok = ASN1_INTEGER_set(value, number) == 1 && X509_CRL_add1_ext_i2d(crl, NID_crl_number, value, 0, 0) == 1;
    ASN1_INTEGER_free(value);
    return ok;
}

/* Extended key usage of a certificate (XKU_SSL_CLIENT, XKU_SSL_SERVER bits); UINT32_MAX if absent. */
static inline uint32_t qlink_x509_extended_key_usage(X509 *cert) { return X509_get_extended_key_usage(cert); }
static inline uint32_t qlink_xku_ssl_client(void) { return XKU_SSL_CLIENT; }
static inline uint32_t qlink_xku_ssl_server(void) { return XKU_SSL_SERVER; }
static inline uint32_t qlink_x509_key_usage(X509 *cert) { return X509_get_key_usage(cert); }
static inline uint32_t qlink_ku_key_agreement(void) { return KU_KEY_AGREEMENT; }

static inline unsigned long qlink_xn_flag_oneline(void) { return XN_FLAG_ONELINE; }
static inline int qlink_mbstring_utf8(void) { return MBSTRING_UTF8; }

#endif
