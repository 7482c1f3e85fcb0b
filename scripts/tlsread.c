// tlsread: the benchmark's TLS reader (scripts/bench, case 6). One blocking connection over
// TLS (OpenSSL), reading one stream to its end as fast as it can and counting messages:
//   WebSocket mode (default): upgrades PATH, counts data messages until the close frame
//     (JSON messages starting with {"event" are counted apart, as wsload does);
//   --docker: a raw engine read, HTTP/1.0 GET of PATH, counting the 8-byte-header frames.
// Prints one JSON line like wsload's. Loopback only; the certificate is verified against --ca.
//
//   cc -O2 -o tlsread scripts/tlsread.c -lssl -lcrypto
//   tlsread --ca ca.pem [--cert c.pem --key k.pem] [--docker] HOST PORT PATH
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "tlsread: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static unsigned char buf[1 << 20];

int main(int argc, char **argv) {
    const char *ca = NULL, *cert = NULL, *key = NULL;
    int docker = 0, i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (!strcmp(argv[i], "--docker")) docker = 1;
        else if (!strcmp(argv[i], "--ca") && i + 1 < argc) ca = argv[++i];
        else if (!strcmp(argv[i], "--cert") && i + 1 < argc) cert = argv[++i];
        else if (!strcmp(argv[i], "--key") && i + 1 < argc) key = argv[++i];
        else die("usage: tlsread --ca CA [--cert C --key K] [--docker] HOST PORT PATH");
    }
    if (argc - i != 3 || !ca) die("usage: tlsread --ca CA [--cert C --key K] [--docker] HOST PORT PATH");
    const char *host = argv[i], *path = argv[i + 2];
    int port = atoi(argv[i + 1]);

    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) die("cannot load the CA");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (cert && (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1))
        die("cannot load the client certificate");

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) die("HOST must be an IPv4 literal (loopback)");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) die("connect failed");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    double t0 = now();
    if (SSL_connect(ssl) != 1) die("TLS handshake failed");

    char req[4096];
    if (docker)
        snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: docker\r\n\r\n", path);
    else
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path, host, port);
    if (SSL_write(ssl, req, (int)strlen(req)) <= 0) die("write failed");

    // A small parser over a sliding window: head first, then frames.
    size_t have = 0, pos = 0;
    int in_head = 1, closed = 0, close_1000 = 0;
    long long msgs = 0, events = 0, bytes = 0;
    for (;;) {
        if (pos > 0 && pos == have) { have = pos = 0; }
        if (pos > sizeof buf / 2) { memmove(buf, buf + pos, have - pos); have -= pos; pos = 0; }
        int n = SSL_read(ssl, buf + have, (int)(sizeof buf - have));
        if (n <= 0) break;
        have += n;
        bytes += n;
        if (in_head) {
            unsigned char *end = memmem(buf + pos, have - pos, "\r\n\r\n", 4);
            if (!end) continue;
            if (!docker && memcmp(buf, "HTTP/1.1 101", 12) != 0) die("no WebSocket upgrade");
            if (docker && memcmp(buf + 9, "200", 3) != 0) die("engine did not answer 200");
            pos = end + 4 - buf;
            in_head = 0;
        }
        for (;;) {
            size_t avail = have - pos;
            unsigned char *p = buf + pos;
            if (docker) {
                if (avail < 8) break;
                uint32_t len = (uint32_t)p[4] << 24 | p[5] << 16 | p[6] << 8 | p[7];
                if (avail < 8 + (size_t)len) break;
                msgs++;
                pos += 8 + len;
            } else {
                if (avail < 2) break;
                int op = p[0] & 0x0F;
                uint64_t len = p[1] & 0x7F;
                size_t hl = 2;
                if (len == 126) { if (avail < 4) break; len = (uint64_t)p[2] << 8 | p[3]; hl = 4; }
                else if (len == 127) { if (avail < 10) break; len = 0; for (int k = 0; k < 8; k++) len = len << 8 | p[2 + k]; hl = 10; }
                if (avail < hl + len) break;
                unsigned char *payload = p + hl;
                if (op == 8) { closed = 1; close_1000 = len >= 2 && (payload[0] << 8 | payload[1]) == 1000; }
                else if (op == 1 || op == 2 || op == 0) {
                    if (op == 1 && len >= 8 && memcmp(payload, "{\"event\"", 8) == 0) events++;
                    else msgs++;
                }
                pos += hl + len;
                if (closed) break;
            }
        }
        if (closed) break;
    }
    double t = now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"msgs\":%lld,\"events\":%lld,\"bytes\":%lld,\"seconds\":%.4f,\"msgs_per_s\":%.1f,\"close_1000\":%d,"
           "\"cpu_user_s\":%.4f,\"cpu_sys_s\":%.4f,\"protocol\":\"%s\"}\n",
           msgs, events, bytes, t, msgs / t, close_1000,
           ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, SSL_get_version(ssl));
    return 0;
}
