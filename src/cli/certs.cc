#include "cli/certs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>

namespace sl::cli {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

bool write_pem(const std::string& path, mode_t mode, const std::function<int(FILE*)>& fn) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    std::perror(("certs: " + path).c_str());
    return false;
  }
  ::fchmod(fd, mode);
  FILE* f = ::fdopen(fd, "w");
  bool ok = f && fn(f) == 1;
  if (f) std::fclose(f);
  if (!ok) std::fprintf(stderr, "certs: cannot write %s\n", path.c_str());
  return ok;
}

}  // namespace

bool make_self_signed(const std::string& dir, const std::vector<std::string>& names, int days) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    std::fprintf(stderr, "certs: key generation failed\n");
    return false;
  }
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  FILE* ur = std::fopen("/dev/urandom", "rb");
  if (!ur || std::fread(serial, 1, sizeof serial, ur) != sizeof serial) {
    if (ur) std::fclose(ur);
    std::fprintf(stderr, "certs: no randomness\n");
    return false;
  }
  std::fclose(ur);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = names.empty() ? "localhost" : names.front();
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("streamlake"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (const auto& n : names) {
    unsigned char buf[16];
    bool ip = inet_pton(AF_INET, n.c_str(), buf) == 1 || inet_pton(AF_INET6, n.c_str(), buf) == 1;
    if (!san.empty()) san += ",";
    san += (ip ? "IP:" : "DNS:") + n;
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, san},
                            {NID_basic_constraints, "critical,CA:FALSE"},
                            {NID_ext_key_usage, "serverAuth"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) {
      std::fprintf(stderr, "certs: bad extension %s\n", value.c_str());
      return false;
    }
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    std::fprintf(stderr, "certs: signing failed\n");
    return false;
  }
  std::string key_path = dir + "/key.pem", cert_path = dir + "/cert.pem";
  if (!write_pem(key_path, 0600, [&](FILE* f) {
        return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
      }))
    return false;
  if (!write_pem(cert_path, 0644, [&](FILE* f) { return PEM_write_X509(f, cert.get()); })) return false;
  std::printf("certs: wrote %s and %s (self-signed, %d days, for %s)\n", cert_path.c_str(), key_path.c_str(),
              days, san.c_str());
  std::printf("certs: start with: streamlake serve --tls-cert %s --tls-key %s\n", cert_path.c_str(),
              key_path.c_str());
  return true;
}

}  // namespace sl::cli
