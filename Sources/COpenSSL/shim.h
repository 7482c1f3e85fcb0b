#ifndef DOCKTAIL_COPENSSL_SHIM_H
#define DOCKTAIL_COPENSSL_SHIM_H
#include <openssl/sha.h>
#endif
