#ifndef DOCKTAIL_COPENSSL_SHIM_H
#define DOCKTAIL_COPENSSL_SHIM_H
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>

// OpenSSL spells these as macros over *_ctrl, which Swift cannot import: thin inline wrappers.

static inline int docktail_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int docktail_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline void docktail_SSL_CTX_harden(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    /* Idle connections (thousands of quiet WebSockets) give their record buffers back. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
}

static inline size_t docktail_BIO_pending(BIO *bio) {
    return BIO_ctrl_pending(bio);
}

static inline int docktail_TLS1_2_VERSION(void) { return TLS1_2_VERSION; }

#endif
