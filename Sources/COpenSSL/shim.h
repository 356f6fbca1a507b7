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

#endif
