/*
 * Socket options Node's `net` cannot set, for BGP (see src/bgp/tcp-options.ts):
 * the TTL / hop limit of outgoing segments (eBGP multihop) and TCP-MD5 keys (RFC 2385).
 * Each function works on a descriptor: one made here before connect, or a listener's.
 * Failures throw an Error whose `code` is the errno name (e.g. ENOPROTOOPT).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* Not <netinet/tcp.h>: the kernel's header has TCP_MD5SIG_EXT and its prefix flag. */
#include <linux/tcp.h>
#include <node_api.h>

static napi_value throw_errno(napi_env env, const char *call) {
  int error = errno;
  char message[128];
  snprintf(message, sizeof message, "%s: %s", call, strerror(error));
  const char *name = strerrorname_np(error);
  napi_throw_error(env, name ? name : "EIO", message);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static int get_int(napi_env env, napi_value value, int32_t *out) {
  return napi_get_value_int32(env, value, out) == napi_ok;
}

/* socket(family: 4 | 6): fd — a non-blocking TCP socket, not bound or connected. */
static napi_value create_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t family;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !get_int(env, argv[0], &family) || (family != 4 && family != 6)) return throw_type(env, "socket(family): family is 4 or 6");
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return throw_errno(env, "socket");
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

static int socket_domain(int fd) {
  int domain = 0;
  socklen_t length = sizeof domain;
  return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 ? domain : -1;
}

/*
 * setTtl(fd, ttl): the TTL (IPv4) or hop limit (IPv6) of unicast segments. An IPv6
 * socket gets both: a dual-stack one talks IPv4 to IPv4-mapped peers.
 */
static napi_value set_ttl(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd, ttl;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !get_int(env, argv[0], &fd) || !get_int(env, argv[1], &ttl) || ttl < 1 || ttl > 255) return throw_type(env, "setTtl(fd, ttl): ttl is 1-255");
  int domain = socket_domain(fd);
  if (domain < 0) return throw_errno(env, "getsockopt(SO_DOMAIN)");
  if (domain == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl) != 0) return throw_errno(env, "setsockopt(IPV6_UNICAST_HOPS)");
  if (setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) != 0) return throw_errno(env, "setsockopt(IP_TTL)");
  return NULL;
}

/*
 * setMd5Key(fd, address, prefixLength, key): the TCP-MD5 key for segments to and from
 * `address` (or a whole prefix of peers, for a listener); an empty key removes it. On an
 * IPv6 socket an IPv4 peer is keyed by its IPv4-mapped address, as the kernel expects.
 */
static napi_value set_md5_key(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd, prefix_length;
  char address[INET6_ADDRSTRLEN];
  size_t address_length;
  void *key;
  size_t key_length;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4 || !get_int(env, argv[0], &fd) || napi_get_value_string_utf8(env, argv[1], address, sizeof address, &address_length) != napi_ok ||
      !get_int(env, argv[2], &prefix_length) || napi_get_buffer_info(env, argv[3], &key, &key_length) != napi_ok)
    return throw_type(env, "setMd5Key(fd, address, prefixLength, key: Buffer)");
  if (address_length >= sizeof address - 1) return throw_type(env, "setMd5Key: the address is too long to be one");
  if (key_length > TCP_MD5SIG_MAXKEYLEN) return throw_type(env, "setMd5Key: a TCP-MD5 key is at most 80 bytes");

  struct tcp_md5sig md5;
  memset(&md5, 0, sizeof md5);
  struct in_addr ipv4;
  struct in6_addr ipv6;
  int full_length;
  int domain = socket_domain(fd);
  if (domain < 0) return throw_errno(env, "getsockopt(SO_DOMAIN)");
  if (inet_pton(AF_INET, address, &ipv4) == 1 && domain == AF_INET) {
    struct sockaddr_in *peer = (struct sockaddr_in *)&md5.tcpm_addr;
    peer->sin_family = AF_INET;
    peer->sin_addr = ipv4;
    full_length = 32;
  } else if (inet_pton(AF_INET, address, &ipv4) == 1) {
    struct sockaddr_in6 *peer = (struct sockaddr_in6 *)&md5.tcpm_addr;
    peer->sin6_family = AF_INET6;
    peer->sin6_addr.s6_addr[10] = 0xff;
    peer->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&peer->sin6_addr.s6_addr[12], &ipv4, 4);
    /* The kernel reads a mapped address's prefix length as an IPv4 one. */
    full_length = 32;
  } else if (inet_pton(AF_INET6, address, &ipv6) == 1 && domain == AF_INET6) {
    struct sockaddr_in6 *peer = (struct sockaddr_in6 *)&md5.tcpm_addr;
    peer->sin6_family = AF_INET6;
    peer->sin6_addr = ipv6;
    full_length = 128;
  } else {
    return throw_type(env, "setMd5Key: the address is not an IP address of the socket's family");
  }
  if (prefix_length < 0 || prefix_length > full_length) return throw_type(env, "setMd5Key: prefix length out of range");
  md5.tcpm_keylen = (__u16)key_length;
  memcpy(md5.tcpm_key, key, key_length);
  int option = TCP_MD5SIG;
  if (prefix_length < full_length) {
    option = TCP_MD5SIG_EXT;
    md5.tcpm_flags = TCP_MD5SIG_FLAG_PREFIX;
    md5.tcpm_prefixlen = (__u8)prefix_length;
  }
  if (setsockopt(fd, IPPROTO_TCP, option, &md5, sizeof md5) != 0) return throw_errno(env, option == TCP_MD5SIG ? "setsockopt(TCP_MD5SIG)" : "setsockopt(TCP_MD5SIG_EXT)");
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"socket", NULL, create_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setTtl", NULL, set_ttl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setMd5Key", NULL, set_md5_key, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
