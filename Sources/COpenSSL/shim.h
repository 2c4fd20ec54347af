#ifndef KITT_COPENSSL_SHIM_H
#define KITT_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/bn.h>

// Wrappers for OpenSSL macros that Swift cannot import (function-like macros,
// composite constants, variadic helpers). Each one is a one-line forward.

// --- SSL_CTX / SSL configuration --------------------------------------------

static inline int kitt_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline long kitt_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

static inline long kitt_SSL_MODE_default(void) {
    /* RELEASE_BUFFERS: idle connections (keep-alive, SSE) give back their 16-34 KiB of
       read/write buffers between records, as nginx does. */
    return (long)(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
}

/// Options for both ends: no compression (CRIME), no renegotiation.
static inline uint64_t kitt_SSL_OP_common(void) {
    return SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;
}

/// Server-only extra: prefer the server's cipher order.
static inline uint64_t kitt_SSL_OP_server(void) {
    return SSL_OP_CIPHER_SERVER_PREFERENCE;
}

static inline long kitt_SSL_CTX_set_session_cache_mode_server(SSL_CTX *ctx) {
    return SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
}

static inline int kitt_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}

static inline int kitt_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/// True when an error code is "peer closed the TCP stream without close_notify".
static inline int kitt_ERR_is_unexpected_eof(unsigned long code) {
    return ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

// --- Keys, certificates ------------------------------------------------------

/// A fresh EC P-256 key pair (EVP_EC_gen is a macro over a variadic function).
static inline EVP_PKEY *kitt_EVP_EC_gen_P256(void) {
    return EVP_EC_gen("P-256");
}

static inline STACK_OF(GENERAL_NAME) *kitt_sk_GENERAL_NAME_new_null(void) {
    return sk_GENERAL_NAME_new_null();
}

static inline int kitt_sk_GENERAL_NAME_push(STACK_OF(GENERAL_NAME) *stack, GENERAL_NAME *name) {
    return sk_GENERAL_NAME_push(stack, name);
}

static inline int kitt_sk_GENERAL_NAME_num(const STACK_OF(GENERAL_NAME) *stack) {
    return sk_GENERAL_NAME_num(stack);
}

static inline long kitt_BIO_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

#endif
