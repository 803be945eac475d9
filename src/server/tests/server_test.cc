#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "server/config.h"
#include "server/credentials.h"

namespace sl::server {
namespace {

std::string temp_dir() {
  auto p = std::filesystem::temp_directory_path() / ("sl_server_test_" + std::to_string(::getpid()) + "_" +
                                                    std::to_string(std::rand()));
  std::filesystem::create_directories(p);
  return p.string();
}

TEST(Credentials, CreatedOnceWithMode0600AndReadBack) {
  std::string dir = temp_dir();
  bool created = false;
  auto a = load_or_create_credentials(dir, &created);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_TRUE(created);
  EXPECT_EQ(a->access_key.size(), 20u);
  EXPECT_EQ(a->access_key.substr(0, 4), "SLAK");
  EXPECT_EQ(a->secret.size(), 40u);
  struct stat st;
  ASSERT_EQ(::stat((dir + "/credentials").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto b = load_or_create_credentials(dir, &created);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(b->access_key, a->access_key);
  EXPECT_EQ(b->secret, a->secret);
  std::filesystem::remove_all(dir);
}

TEST(Credentials, ReadsNamedProfileAndRejectsIncomplete) {
  std::string dir = temp_dir();
  std::ofstream(dir + "/c") << "[default]\naws_access_key_id=A\n\n[other]\n aws_access_key_id = B \n"
                               "aws_secret_access_key = S2\n";
  auto o = read_credentials_file(dir + "/c", "other");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->access_key, "B");
  EXPECT_EQ(o->secret, "S2");
  EXPECT_FALSE(read_credentials_file(dir + "/c", "default").ok());
  EXPECT_FALSE(read_credentials_file(dir + "/missing").ok());
  std::filesystem::remove_all(dir);
}

TEST(Config, FileOverridesDefaultsAndValidatesUsers) {
  std::string dir = temp_dir();
  std::ofstream(dir + "/a.toml") << "[server]\nport = 9999\nhost = \"0.0.0.0\"\n[storage]\nfsync = false\n"
                                    "[[users]]\nname = \"bob\"\naccess_key = \"AK\"\nsecret = \"S\"\nrole = \"reader\"\n";
  Config c;
  ASSERT_TRUE(load_config_file(dir + "/a.toml", &c).ok());
  EXPECT_EQ(c.port, 9999);
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_FALSE(c.fsync);
  ASSERT_EQ(c.users.size(), 1u);
  EXPECT_EQ(c.users[0].role, "reader");
  EXPECT_EQ(c.pg_port, 4567);

  std::ofstream(dir + "/b.toml") << "[[users]]\nname = \"x\"\naccess_key = \"AK\"\nsecret = \"S\"\nrole = \"root\"\n";
  Config c2;
  auto st = load_config_file(dir + "/b.toml", &c2);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("role"), std::string::npos);

  std::ofstream(dir + "/s3.toml") << "[lake.s3]\nendpoint = \"http://127.0.0.1:4569\"\nregion = \"eu-west-1\"\n"
                                     "path_style = false\naccess_key_id = \"AK\"\nsecret_access_key = \"SK\"\n"
                                     "max_retries = 3\nmultipart_part_bytes = 16777216\n";
  Config cs;
  ASSERT_TRUE(load_config_file(dir + "/s3.toml", &cs).ok());
  EXPECT_EQ(cs.s3.endpoint, "http://127.0.0.1:4569");
  EXPECT_EQ(cs.s3.region, "eu-west-1");
  EXPECT_FALSE(cs.s3.path_style);
  EXPECT_EQ(cs.s3.access_key, "AK");
  EXPECT_EQ(cs.s3.secret_key, "SK");
  EXPECT_EQ(cs.s3.max_retries, 3);
  EXPECT_EQ(cs.s3.multipart_part_bytes, 16u << 20);
  EXPECT_EQ(c.s3.endpoint, "");  // absent section: defaults
  EXPECT_TRUE(c.s3.path_style);
  std::ofstream(dir + "/s3bad.toml") << "[lake.s3]\nendpont = \"typo\"\n";
  Config cb;
  auto sb = load_config_file(dir + "/s3bad.toml", &cb);
  EXPECT_NE(sb.message().find("endpont"), std::string::npos) << sb.to_string();
  std::ofstream(dir + "/s3part.toml") << "[lake.s3]\nmultipart_part_bytes = 1024\n";
  EXPECT_FALSE(load_config_file(dir + "/s3part.toml", &cb).ok());
  std::ofstream(dir + "/s3half.toml") << "[lake.s3]\naccess_key_id = \"AK\"\n";
  EXPECT_FALSE(load_config_file(dir + "/s3half.toml", &cb).ok());

  std::ofstream(dir + "/c.toml") << "[server\nport = 1\n";
  Config c3;
  EXPECT_FALSE(load_config_file(dir + "/c.toml", &c3).ok());
  std::filesystem::remove_all(dir);
}

TEST(Config, UnknownSectionsAndSettingsAreRefused) {
  std::string dir = temp_dir();
  for (const char* bad : {"[server]\nprot = 1\n", "[sever]\nport = 1\n", "[ui]\nlive_interval = 100\n",
                          "[lake.s3]\nendpont = \"x\"\n", "[kinesis]\nenforce_limit = true\n"}) {
    std::ofstream(dir + "/u.toml") << bad;
    Config c;
    Status st = load_config_file(dir + "/u.toml", &c);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find("unknown"), std::string::npos) << st.message();
  }
  std::ofstream(dir + "/ok.toml") << "[server]\nport = 5000\n[kinesis]\nenforce_limits = true\n[lake.s3]\nregion = \"eu-west-1\"\n";
  Config c;
  ASSERT_TRUE(load_config_file(dir + "/ok.toml", &c).ok());
  EXPECT_EQ(c.port, 5000);
  EXPECT_TRUE(c.kinesis_enforce_limits);
}

TEST(Config, UiAndMetricsSections) {
  std::string dir = temp_dir();
  Config d;
  EXPECT_EQ(d.ui_session_idle_minutes, 720);
  EXPECT_EQ(d.ui_live_interval_ms, 100);
  EXPECT_FALSE(d.metrics_public);
  std::ofstream(dir + "/a.toml") << "[ui]\nsession_idle_minutes = 30\nlive_interval_ms = 250\n[metrics]\npublic = true\n";
  Config c;
  ASSERT_TRUE(load_config_file(dir + "/a.toml", &c).ok());
  EXPECT_EQ(c.ui_session_idle_minutes, 30);
  EXPECT_EQ(c.ui_live_interval_ms, 250);
  EXPECT_TRUE(c.metrics_public);
  for (const char* bad : {"[ui]\nsession_idle_minutes = 0\n", "[ui]\nlive_interval_ms = 5\n"}) {
    std::ofstream(dir + "/b.toml") << bad;
    Config c2;
    auto st = load_config_file(dir + "/b.toml", &c2);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find("[ui]"), std::string::npos) << st.message();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sl::server
