// OpenSSL 3 (libssl, libcrypto), for svcprobe's --tls. Includes, plus one-line wrappers for the API that
// OpenSSL publishes only as function-like macros, which Swift cannot call. All logic lives in Swift.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/bio.h>
#include <openssl/evp.h>

static inline long vipscope_ssl_set_server_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline long vipscope_ssl_ctx_set_mode(SSL_CTX *context, long mode) {
    return SSL_CTX_set_mode(context, mode);
}
static inline int vipscope_general_names_count(const GENERAL_NAMES *names) {
    return sk_GENERAL_NAME_num(names);
}
static inline GENERAL_NAME *vipscope_general_names_value(const GENERAL_NAMES *names, int index) {
    return sk_GENERAL_NAME_value(names, index);
}
static inline long vipscope_bio_pending(BIO *bio) {
    return (long)BIO_ctrl_pending(bio);
}

// X509_NAME_print_ex flags for OpenSSL's one-line form, the `openssl x509 -subject` default (XN_FLAG_ONELINE
// is a compound macro Swift does not import).
static inline unsigned long vipscope_name_oneline_flags(void) {
    return XN_FLAG_ONELINE;
}
